#!/usr/bin/env python3
"""Reference numbers for the task heads and losses beyond single-label cross-entropy: multi-label
(BCE, BCE with pos_weight, sigmoid focal), regression (MSE, Huber) and label smoothing, on the
committed tiny-bert, from Hugging Face transformers on PyTorch, computed in float64.

Needs: torch, transformers, safetensors (pip); torchvision is NOT needed (the focal loss is its
sigmoid_focal_loss formula written out). Reuses generate.py beside this file (batch, token types,
dropout-off and versions helpers). CI never runs it: the files it writes are the fixtures
(README.md beside this file describes them).

usage: generate_tasks.py FIXTURES OUT_DIR
  FIXTURES  Tests/BertTrainingTests/Fixtures (read: tiny-bert/{config.json,model.safetensors,
            reference.safetensors})
  OUT_DIR   written: OUT_DIR/tasks/<case>.safetensors for every case below,
            OUT_DIR/tasks/tasks.json and OUT_DIR/versions.json

Every case: tiny-bert's weights (dropout 0, eager attention, model.double(), train mode), the
input.* tensors of tiny-bert/reference.safetensors exactly (generate.py's seeded 3 x 11 batch, rows 1
and 2 padded after 7 and 4 tokens), one forward and one backward of the mean loss.
  multi_label             problem_type multi_label_classification, labels multi-hot
                          [[1,0,1],[0,0,0],[0,1,0]] (row 1: empty set); HF's loss, BCEWithLogitsLoss,
                          mean over all B x C = 9 elements
  multi_label_pos_weight  the same labels; BCEWithLogitsLoss(pos_weight=[2.0, 0.5, 3.0]) by hand on the
                          logits (HF has no pos_weight: the model is called without labels)
  regression              num_labels 1, problem_type regression: tiny-bert's weights except the
                          classifier [1, 32], drawn with torch.manual_seed(1) then normal(0, 0.02),
                          bias 0 (stored as init.classifier.*); targets [0.5, -1.25, 2.0]; HF's loss,
                          MSELoss (mean)
  regression_huber        the regression model; HuberLoss(delta=1.0) (mean) by hand
  label_smoothing         single-label, labels [0, 2, 1]; CrossEntropyLoss(label_smoothing=0.1) (mean)
  focal_sigmoid           multi_label's labels; torchvision.ops.sigmoid_focal_loss's formula,
                          alpha 0.25, gamma 2.0, mean over all 9 elements
  windows_mean            long documents: the batch's 3 sequences are the windows of 2 documents
  windows_max             (rows 0 and 1 → document 0, row 2 → document 1); each document's logits
  windows_weighted        aggregate its windows' (mean; max per label; mean weighted by the windows'
                          token counts 11 and 7), CrossEntropyLoss on the 2 documents with labels
                          [2, 1]; output.document_logits holds the aggregates
Each loss is also recomputed from its written-out formula (asserted equal in float64) and in
float32 (printed, and recorded in tasks.json as float32_check). label_smoothing is also compared with
plain cross-entropy (tasks.json contrast): on tiny-bert's near-uniform logits the two losses differ
by only 3e-6.

Importing this module has no side effects.
"""
import argparse, json, os, sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402  (no side effects on import)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

MULTI_HOT = [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
POS_WEIGHT = [2.0, 0.5, 3.0]
TARGETS = [0.5, -1.25, 2.0]
SINGLE = [0, 2, 1]
SMOOTHING = 0.1
HUBER_DELTA = 1.0
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0
REGRESSION_SEED, REGRESSION_STD = 1, 0.02


def tiny_bert_batch(fixtures):
    """input.* of tiny-bert/reference.safetensors, checked against generate.py's seeded batch."""
    ref = load_file(os.path.join(fixtures, "tiny-bert", "reference.safetensors"))
    ids, mask, labels = g.tiny_batch()
    assert torch.equal(ref["input.input_ids"], ids) and torch.equal(ref["input.attention_mask"], mask)
    assert torch.equal(ref["input.token_type_ids"], g.bert_token_types(ids))
    assert ref["input.labels"].tolist() == labels.tolist() == SINGLE
    batch = {k: ref["input." + k].contiguous() for k in ("input_ids", "attention_mask", "token_type_ids")}
    return batch, ref


def classifier3(d, problem_type, dtype):
    """tiny-bert as committed (3 labels neg/neu/pos), every tensor loaded."""
    cfg = g.no_dropout(BertConfig.from_pretrained(d, problem_type=problem_type))
    model, info = BertForSequenceClassification.from_pretrained(d, config=cfg, attn_implementation="eager",
                                                                output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")), info
    return model.to(dtype).train(), None


def regressor(d, dtype):
    """tiny-bert with a 1-output head: every tensor of model.safetensors but classifier.*, which is
    drawn here (seed 1, normal(0, 0.02), bias 0) in float32 before the cast. Returns (model, init)."""
    cfg = g.no_dropout(BertConfig.from_pretrained(d, id2label={0: "score"}, label2id={"score": 0},
                                                  problem_type="regression"))
    assert cfg.num_labels == 1
    model, info = BertForSequenceClassification.from_pretrained(d, config=cfg, attn_implementation="eager",
                                                                ignore_mismatched_sizes=True, output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "error_msgs")), info
    assert sorted(k for k, _, _ in info["mismatched_keys"]) == ["classifier.bias", "classifier.weight"], info
    torch.manual_seed(REGRESSION_SEED)
    with torch.no_grad():
        torch.nn.init.normal_(model.classifier.weight, mean=0.0, std=REGRESSION_STD)
        torch.nn.init.zeros_(model.classifier.bias)
    init = {"init.classifier.weight": model.classifier.weight.detach().clone().contiguous(),
            "init.classifier.bias": model.classifier.bias.detach().clone().contiguous()}
    assert init["init.classifier.weight"].dtype == torch.float32 and init["init.classifier.weight"].shape == (1, 32)
    return model.to(dtype).train(), init


# Each loss twice: with torch's modules (the reference) and from its formula written out (a check).

def bce(logits, y):
    return torch.nn.BCEWithLogitsLoss()(logits, y)


def bce_formula(x, y):
    return -(y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean()


def bce_pos_weight(logits, y):
    return torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(POS_WEIGHT, dtype=logits.dtype))(logits, y)


def bce_pos_weight_formula(x, y):
    pw = torch.tensor(POS_WEIGHT, dtype=x.dtype)
    return -(pw * y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean()


def mse(logits, t):
    return torch.nn.MSELoss()(logits.squeeze(-1), t)


def mse_formula(x, t):
    return ((x[:, 0] - t) ** 2).mean()


def huber(logits, t):
    return torch.nn.HuberLoss(delta=HUBER_DELTA)(logits.squeeze(-1), t)


def huber_formula(x, t):
    a = (x[:, 0] - t).abs()
    return torch.where(a <= HUBER_DELTA, 0.5 * a ** 2, HUBER_DELTA * (a - 0.5 * HUBER_DELTA)).mean()


def smoothed_ce(logits, y):
    return torch.nn.CrossEntropyLoss(label_smoothing=SMOOTHING)(logits, y)


def plain_ce(logits, y):
    return torch.nn.CrossEntropyLoss()(logits, y)


def smoothed_ce_formula(x, y):
    logp = F.log_softmax(x, dim=-1)
    c = x.shape[-1]
    target = F.one_hot(y, c).to(x.dtype) * (1 - SMOOTHING) + SMOOTHING / c
    return -(target * logp).sum(-1).mean()


def sigmoid_focal(logits, y):
    """torchvision.ops.sigmoid_focal_loss(logits, y, alpha, gamma, reduction="mean"), line for line."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** FOCAL_GAMMA)
    alpha_t = FOCAL_ALPHA * y + (1 - FOCAL_ALPHA) * (1 - y)
    return (alpha_t * loss).mean()


def sigmoid_focal_formula(x, y):
    p = torch.sigmoid(x)
    pos = -FOCAL_ALPHA * (1 - p) ** FOCAL_GAMMA * F.logsigmoid(x)
    neg = -(1 - FOCAL_ALPHA) * p ** FOCAL_GAMMA * F.logsigmoid(-x)
    return (y * pos + (1 - y) * neg).mean()


def sigmoid(x):
    return torch.sigmoid(x)


def softmax(x):
    return torch.softmax(x, dim=-1)


def identity(x):
    return x.clone()


MULTI = {"problem_type": "multi_label_classification", "num_labels": 3, "head": "classifier3",
         "labels": MULTI_HOT, "labels_dtype": "F64", "probs": "sigmoid"}
REGRESSION = {"problem_type": "regression", "num_labels": 1, "head": "regressor",
              "labels": TARGETS, "labels_dtype": "F64", "probs": "identity"}
CASES = [
    dict(MULTI, name="multi_label", loss=bce, formula_check=bce_formula, hf_loss=True,
         loss_info={"name": "bce_with_logits", "torch": "BCEWithLogitsLoss()", "params": {},
                    "formula": "mean over b, c of -(y log sigmoid(x) + (1 - y) log sigmoid(-x))",
                    "reduction": "mean over all B x C = 9 elements", "source": "HF model(labels=...).loss"}),
    dict(MULTI, name="multi_label_pos_weight", loss=bce_pos_weight, formula_check=bce_pos_weight_formula, hf_loss=False,
         loss_info={"name": "bce_with_logits", "torch": "BCEWithLogitsLoss(pos_weight=[2.0, 0.5, 3.0])",
                    "params": {"pos_weight": POS_WEIGHT},
                    "formula": "mean over b, c of -(pos_weight[c] y log sigmoid(x) + (1 - y) log sigmoid(-x))",
                    "reduction": "mean over all B x C = 9 elements (not divided by the weights)",
                    "source": "by hand on HF's logits (the model has no pos_weight option)"}),
    dict(REGRESSION, name="regression", loss=mse, formula_check=mse_formula, hf_loss=True,
         loss_info={"name": "mse", "torch": "MSELoss()", "params": {}, "formula": "mean over b of (x[b, 0] - t[b])^2",
                    "reduction": "mean over B = 3", "source": "HF model(labels=...).loss (logits.squeeze() vs labels.squeeze())"}),
    dict(REGRESSION, name="regression_huber", loss=huber, formula_check=huber_formula, hf_loss=False,
         loss_info={"name": "huber", "torch": "HuberLoss(delta=1.0)", "params": {"delta": HUBER_DELTA},
                    "formula": "mean over b of (0.5 a^2 if a <= delta else delta (a - 0.5 delta)), a = |x[b, 0] - t[b]|",
                    "reduction": "mean over B = 3", "source": "by hand on HF's logits"}),
    dict(name="label_smoothing", problem_type="single_label_classification", num_labels=3, head="classifier3",
         labels=SINGLE, labels_dtype="I64", probs="softmax", loss=smoothed_ce, formula_check=smoothed_ce_formula,
         hf_loss=False, contrast=("plain CrossEntropyLoss() (label_smoothing 0)", plain_ce),
         loss_info={"name": "cross_entropy", "torch": "CrossEntropyLoss(label_smoothing=0.1)",
                    "params": {"label_smoothing": SMOOTHING},
                    "formula": "mean over b of -sum_c q[b, c] log softmax(x[b])[c], q = (1 - eps) onehot(y) + eps / C",
                    "reduction": "mean over B = 3", "source": "by hand on HF's logits"}),
    dict(MULTI, name="focal_sigmoid", loss=sigmoid_focal, formula_check=sigmoid_focal_formula, hf_loss=False,
         loss_info={"name": "sigmoid_focal", "torch": "torchvision.ops.sigmoid_focal_loss(alpha=0.25, gamma=2.0, reduction='mean')",
                    "params": {"alpha": FOCAL_ALPHA, "gamma": FOCAL_GAMMA},
                    "formula": "mean over b, c of alpha_t (1 - p_t)^gamma BCE(x, y), p = sigmoid(x), "
                               "p_t = p y + (1 - p)(1 - y), alpha_t = alpha y + (1 - alpha)(1 - y)",
                    "reduction": "mean over all B x C = 9 elements", "source": "by hand on HF's logits"}),
]
WINDOW_GROUPS = [[0, 1], [2]]
WINDOW_LABELS = [2, 1]


def aggregate(logits, mode, lengths):
    """Documents' logits (D, C) from their windows' (S, C), as bertd's WindowAggregation."""
    rows = []
    for group in WINDOW_GROUPS:
        w = logits[group]
        if mode == "mean":
            rows.append(w.mean(0))
        elif mode == "max":
            rows.append(w.max(0).values)
        else:
            t = torch.tensor([float(lengths[i]) for i in group], dtype=logits.dtype)
            rows.append((w * (t / t.sum())[:, None]).sum(0))
    return torch.stack(rows)


def window_case(mode):
    def loss(logits, y, lengths):
        return plain_ce(aggregate(logits, mode, lengths), y)

    def formula(logits, y, lengths):
        return -F.log_softmax(aggregate(logits, mode, lengths), -1).gather(1, y[:, None]).mean()

    return dict(name="windows_" + mode, problem_type="single_label_classification", num_labels=3, head="classifier3",
                labels=WINDOW_LABELS, labels_dtype="I64", probs="softmax", loss=loss, formula_check=formula,
                hf_loss=False, windows=mode,
                loss_info={"name": "cross_entropy_on_windows", "torch": f"CrossEntropyLoss() on the {mode} of each document's windows",
                           "params": {"groups": WINDOW_GROUPS, "aggregate": mode}, "formula": "see aggregate()",
                           "reduction": "mean over D = 2 documents", "source": "by hand on HF's logits"})


CASES += [window_case(m) for m in ("mean", "max", "weighted")]
PROBS = {"sigmoid": sigmoid, "softmax": softmax, "identity": identity}


def labels_tensor(case, dtype):
    if case["labels_dtype"] == "I64":
        return torch.tensor(case["labels"], dtype=torch.int64)
    return torch.tensor(case["labels"], dtype=dtype)


def make_model(d, case, dtype):
    if case["head"] == "regressor":
        return regressor(d, dtype)
    return classifier3(d, case["problem_type"], dtype)


def run_case(d, batch, case, dtype):
    """One forward + backward. Returns (model, labels, logits, loss, init)."""
    model, init = make_model(d, case, dtype)
    labels = labels_tensor(case, dtype)
    model.zero_grad()
    if case["hf_loss"]:
        out = model(**batch, labels=labels)
        loss = out.loss
        mine = case["loss"](out.logits, labels)
        assert abs(loss.item() - mine.item()) <= (1e-15 if dtype == torch.float64 else 1e-6), (case["name"], loss, mine)
    elif "windows" in case:
        out = model(**batch)
        loss = case["loss"](out.logits, labels, batch["attention_mask"].sum(1).tolist())
    else:
        out = model(**batch)
        loss = case["loss"](out.logits, labels)
    assert model.config.problem_type == case["problem_type"]
    loss.backward()
    return model, labels, out.logits.detach(), loss.detach(), init


def grads(model):
    return {n: p.grad.detach().clone().contiguous() for n, p in model.named_parameters() if p.grad is not None}


def case_tensors(case, batch, model, labels, logits, loss, init):
    t = {"input." + k: v.contiguous() for k, v in batch.items()}
    t["input.labels"] = labels.contiguous()
    t["output.logits"] = logits.contiguous()
    if "windows" in case:
        lengths = batch["attention_mask"].sum(1).tolist()
        t["output.document_logits"] = aggregate(logits, case["windows"], lengths).contiguous()
        t["output.probs"] = PROBS[case["probs"]](t["output.document_logits"]).contiguous()
    else:
        t["output.probs"] = PROBS[case["probs"]](logits).contiguous()
    t["output.loss"] = loss.reshape(1).contiguous()
    if case["name"] == "multi_label_pos_weight":
        t["loss.pos_weight"] = torch.tensor(POS_WEIGHT, dtype=torch.float64)
    if init:
        t.update(init)
    for n, gr in grads(model).items():
        t["grad." + n] = gr
    return t


def contrast(d, batch, case, loss64, grads64):
    """How far the case's numbers are from those of the loss it refines (same model and labels, float64):
    a tolerance looser than these differences cannot tell the two apart."""
    name, loss_fn = case["contrast"]
    model, labels, _, loss, _ = run_case(d, batch, dict(case, loss=loss_fn, hf_loss=False), torch.float64)
    g0 = grads(model)
    worst = max(((g0[n] - grads64[n]).abs().max().item(), n) for n in grads64)
    return {"loss": name, "value": loss.item(), "loss_abs_diff": abs(loss.item() - loss64),
            "max_grad_abs_diff": worst[0], "max_grad_abs_diff_tensor": worst[1]}


def float32_check(d, batch, case, loss64, grads64):
    model, _, logits, loss, _ = run_case(d, batch, case, torch.float32)
    g32 = grads(model)
    assert set(g32) == set(grads64)
    worst = max(((g32[n].double() - grads64[n]).abs().max().item(), n) for n in grads64)
    big = max((v.abs().max().item(), n) for n, v in grads64.items())
    return {"loss": float(loss), "loss_abs_diff": abs(float(loss) - loss64),
            "max_grad_abs_diff": worst[0], "max_grad_abs_diff_tensor": worst[1],
            "max_grad_rel_diff": worst[0] / big[0]}


def sanity(d, batch, ref):
    """tiny-bert's own case (CE on [0, 2, 1]) in float64 reproduces reference.safetensors: same weights, same batch."""
    model, _ = classifier3(d, "single_label_classification", torch.float64)
    out = model(**batch, labels=torch.tensor(SINGLE))
    dl = (out.logits.detach() - ref["output.logits"].double()).abs().max().item()
    dloss = abs(out.loss.item() - ref["output.loss"].item())
    print(f"sanity: float64 tiny-bert vs reference.safetensors (F32): logits max |Δ| {dl:.1e}, loss |Δ| {dloss:.1e}")
    assert dl < 1e-6 and dloss < 1e-6
    return out.logits.detach()


def generate(fixtures, out):
    d = os.path.join(fixtures, "tiny-bert")
    batch, ref = tiny_bert_batch(fixtures)
    logits3 = sanity(d, batch, ref)
    od = os.path.join(out, "tasks")
    os.makedirs(od, exist_ok=True)
    lengths = batch["attention_mask"].sum(1).tolist()
    meta = {"model": "tiny-bert", "class": "BertForSequenceClassification",
            "weights": "tiny-bert/model.safetensors; for num_labels 1, classifier.* from the case file's init.classifier.*",
            "computed_in": "float64 (model.double(), eager attention, dropout 0, train mode)",
            "tensors": "F64 floats; I64 input ids/mask/types and single-label labels; F32 init.classifier.*",
            "batch": {"source": "tiny-bert/reference.safetensors input.* (generate.py's seeded batch)",
                      "rows": 3, "width": 11, "lengths": lengths},
            "float32_check": "the same case with the model in float32: loss and every gradient vs the float64 ones",
            "cases": {}}
    for case in CASES:
        model, labels, logits, loss, init = run_case(d, batch, case, torch.float64)
        if case["head"] == "classifier3":
            assert torch.equal(logits, logits3), "every 3-label case has the same logits"
        if "windows" in case:
            check = case["formula_check"](logits, labels, batch["attention_mask"].sum(1).tolist()).item()
        else:
            check = case["formula_check"](logits, labels).item()
        assert abs(check - loss.item()) < 1e-14, (case["name"], check, loss.item())
        t = case_tensors(case, batch, model, labels, logits, loss, init)
        save_file(t, os.path.join(od, case["name"] + ".safetensors"))
        g64 = {k[5:]: v for k, v in t.items() if k.startswith("grad.")}
        big = max((v.abs().max().item(), n) for n, v in g64.items())
        f32 = float32_check(d, batch, case, loss.item(), g64)
        meta["cases"][case["name"]] = {
            "file": case["name"] + ".safetensors", "problem_type": case["problem_type"],
            "num_labels": case["num_labels"], "labels": case["labels"], "labels_dtype": case["labels_dtype"],
            "probs": case["probs"], "loss": case["loss_info"], "value": loss.item(),
            "logits": logits.tolist(), "max_abs_grad": big[0], "max_abs_grad_tensor": big[1],
            "tensors": sorted(k for k in t if not k.startswith("grad.")) + [f"grad.* ({len(g64)} tensors)"],
            "float32_check": f32}
        if "contrast" in case:
            meta["cases"][case["name"]]["contrast"] = contrast(d, batch, case, loss.item(), g64)
        if init:
            meta["cases"][case["name"]]["classifier_init"] = {
                "seed": REGRESSION_SEED, "weight": f"torch.manual_seed({REGRESSION_SEED}); normal_(mean 0, std {REGRESSION_STD}) on float32 [1, 32]",
                "bias": "zeros [1]", "tensors": ["init.classifier.weight", "init.classifier.bias"]}
        print(f"{case['name']:24s} loss {loss.item():.12f}  max|grad| {big[0]:.3e} ({big[1]})  "
              f"float32: loss {f32['loss']:.8f} |Δ| {f32['loss_abs_diff']:.1e}, grads max |Δ| {f32['max_grad_abs_diff']:.1e}"
              f" (rel {f32['max_grad_rel_diff']:.1e})")
        if "contrast" in case:
            c = meta["cases"][case["name"]]["contrast"]
            print(f"  vs {c['loss']}: loss {c['value']:.12f} |Δ| {c['loss_abs_diff']:.1e}, grads max |Δ| "
                  f"{c['max_grad_abs_diff']:.1e} ({c['max_grad_abs_diff_tensor']})")
    with open(os.path.join(od, "tasks.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description="Task-head and loss reference fixtures on tiny-bert (float64).")
    ap.add_argument("fixtures", help="Tests/BertTrainingTests/Fixtures")
    ap.add_argument("out_dir", help="output directory (created)")
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    import safetensors
    info = dict(g.versions(), safetensors=safetensors.__version__)
    generate(a.fixtures, a.out_dir)
    g.write_versions(a.out_dir, info)
    print("ok", info)


if __name__ == "__main__":
    main()
