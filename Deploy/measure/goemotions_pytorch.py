#!/usr/bin/env python3
"""GoEmotions (28 emotions, multi-label) fine-tuned with PyTorch + transformers on bertd's recipe.

The PyTorch side of Deploy/measure/goemotions.sh (not part of CI). It mirrors
`bertctl train --local --model MODEL --train TRAIN --validation DEV --label-column labels
 --task multi-label --epochs 2 --lr 1e-4` followed by `bertctl eval --local RUN --data TEST --json`:

  model      AutoModelForSequenceClassification, problem_type multi_label_classification: the
             checkpoint's encoder and pooler, a new classifier Linear(hidden, labels) initialised
             normal(0, 0.02), bias 0; dropout 0.1 (hidden, attention, classifier)
  loss       BCEWithLogitsLoss, mean over examples x labels; --loss weighted: with pos_weight =
             (training examples - positives) / max(positives, 1) per label, as bertd's --loss weighted
             --pos-weight balanced (the validation loss that selects the checkpoint stays unweighted,
             as bertd's)
  optimizer  AdamW (betas 0.9/0.999, eps 1e-8), weight decay 0.01 except biases and LayerNorm
  schedule   linear warm-up over round(10 % of the steps) (bertd rounds), then linear decay to 0
  steps      batch --batch-size (default 32; the last, short batch kept), grad-norm clipping at 1.0, max length 128
  selection  validation loss at every epoch end; the lowest is the kept checkpoint
  thresholds per label, tuned on the kept checkpoint's validation probabilities exactly as
             bertd's MultiLabelMetrics.tunedThresholds: candidates are the midpoints between
             consecutive distinct probabilities (and the lowest one itself), the first best F1
             from the top wins, clamped to [1e-6, 1 - 1e-6]; 0.5 for a label with < 5 positives
  metrics    on the test file: micro/macro F1 (sklearn, zero_division=0, predicted = p >= t) at
             0.5 and at the tuned thresholds, macro ROC-AUC (sklearn, over labels with both classes)
  threads    torch.set_num_threads(2); seeded by --seed (torch: the new head and dropout; the shuffle;
             the --train-rows subset)

Labels are the sorted union of the labels in the train, validation and test files (for GoEmotions:
the 28 of the full training file, which is bertd's default label set); goemotions.sh passes the same
list to bertctl with --labels so a small training subset cannot drop a label.
Train seconds: the training loop only (texts are tokenized once beforehand, as bertd does; the
validation passes are excluded, as bertd's timings.training excludes them). examples/s = training
examples x epochs / train seconds.

usage: goemotions_pytorch.py [--model DIR] [--train TSV] [--validation TSV] [--test TSV]
                             [--train-rows N] [--epochs 2] [--lr 1e-4] [--batch-size 32] [--seed 42]
                             [--json OUT]
       goemotions_pytorch.py --train-rows N --write-train-subset OUT.tsv   (writes the subset, exits)
"""
import argparse, copy, json, math, os, random, sys, time

DATA = "/work/shared/data/goemotions"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_tsv(path):
    """TSV without quoting (as bertd reads .tsv): header row, then text<TAB>labels."""
    lines = open(path, encoding="utf-8").read().split("\n")
    header = lines[0].rstrip("\r").split("\t")
    ti, li = header.index("text"), header.index("labels")
    texts, labels = [], []
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        f = line.split("\t")
        texts.append(f[ti])
        labels.append([x for x in f[li].split("|") if x])
    return header, lines, texts, labels


def subset_indices(n, rows, seed):
    """The seeded subset of `rows` of `n` training rows, in file order."""
    return sorted(random.Random(seed).sample(range(n), rows)) if rows and rows < n else list(range(n))


def tuned_thresholds(probs, truth, minimum_support=5):
    """bertd's MultiLabelMetrics.tunedThresholds, line for line."""
    import numpy as np
    c = probs.shape[1]
    out = []
    for k in range(c):
        pairs = sorted(zip(probs[:, k].tolist(), truth[:, k].tolist()), key=lambda p: -p[0])
        positives = sum(1 for _, a in pairs if a)
        if positives < minimum_support:
            out.append(0.5)
            continue
        best_f1, best_t = -1.0, 0.5
        tp = fp = 0
        for i, (score, actual) in enumerate(pairs):
            if actual:
                tp += 1
            else:
                fp += 1
            if i + 1 < len(pairs) and pairs[i + 1][0] == score:
                continue  # ties go together
            precision, recall = tp / (tp + fp), tp / positives
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
            threshold = (score + pairs[i + 1][0]) / 2 if i + 1 < len(pairs) else score
            if f1 > best_f1:
                best_f1, best_t = f1, threshold
        out.append(min(max(best_t, 1e-6), 1 - 1e-6))
    return np.array(out)


def scores(probs, truth, thresholds):
    import numpy as np
    from sklearn.metrics import f1_score, roc_auc_score
    pred = (probs >= thresholds[None, :]).astype(int)
    aucs = [roc_auc_score(truth[:, k], probs[:, k]) for k in range(truth.shape[1]) if 0 < truth[:, k].sum() < len(truth)]
    return {"micro_f1": float(f1_score(truth, pred, average="micro", zero_division=0)),
            "macro_f1": float(f1_score(truth, pred, average="macro", zero_division=0)),
            "macro_roc_auc": float(np.mean(aucs)) if aucs else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--train", default=os.path.join(DATA, "train.tsv"))
    ap.add_argument("--validation", default=os.path.join(DATA, "dev.tsv"))
    ap.add_argument("--test", default=os.path.join(DATA, "test.tsv"))
    ap.add_argument("--train-rows", type=int, default=0, help="a seeded subset of the training rows (default: all)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--loss", choices=["bce", "weighted"], default="bce")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--write-train-subset", help="write the --train-rows subset of --train here and exit")
    a = ap.parse_args()

    header, lines, tr_x, tr_y = read_tsv(a.train)
    keep = subset_indices(len(tr_x), a.train_rows, a.seed)
    if a.write_train_subset:
        rows = [l.rstrip("\r") for l in lines[1:] if l.rstrip("\r")]
        with open(a.write_train_subset, "w", encoding="utf-8") as f:
            f.write("\t".join(header) + "\n" + "".join(rows[i] + "\n" for i in keep))
        return
    tr_x, tr_y = [tr_x[i] for i in keep], [tr_y[i] for i in keep]
    _, _, va_x, va_y = read_tsv(a.validation)
    _, _, te_x, te_y = read_tsv(a.test)

    import numpy as np, torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    torch.set_num_threads(2)
    torch.manual_seed(a.seed); random.seed(a.seed); np.random.seed(a.seed)
    BATCH, MAXLEN, WD, WARMUP, CLIP, EVAL_BATCH = a.batch_size, 128, 0.01, 0.1, 1.0, 64

    labels = sorted(set(l for ys in (tr_y, va_y, te_y) for y in ys for l in y))
    lid = {l: i for i, l in enumerate(labels)}

    def targets(ys):
        t = np.zeros((len(ys), len(labels)), dtype=np.float32)
        for i, y in enumerate(ys):
            for l in y:
                t[i, lid[l]] = 1
        return t
    tr_t, va_t, te_t = targets(tr_y), targets(va_y), targets(te_y)
    pos = tr_t.sum(axis=0)
    loss_fn = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.from_numpy(((len(tr_t) - pos) / np.maximum(pos, 1)).astype(np.float32)) if a.loss == "weighted" else None)

    tok = AutoTokenizer.from_pretrained(a.model)
    t0 = time.time()
    enc = {name: tok(x, truncation=True, max_length=MAXLEN) for name, x in (("train", tr_x), ("validation", va_x), ("test", te_x))}
    tokenize_s = time.time() - t0

    def batch(e, idx):
        ids = [e["input_ids"][i] for i in idx]
        n = max(len(s) for s in ids)
        input_ids = torch.zeros((len(ids), n), dtype=torch.long)
        mask = torch.zeros((len(ids), n), dtype=torch.long)
        for r, s in enumerate(ids):
            input_ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(input_ids)}

    model = AutoModelForSequenceClassification.from_pretrained(
        a.model, num_labels=len(labels), problem_type="multi_label_classification", dtype=torch.float32,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, classifier_dropout=None,
        id2label=dict(enumerate(labels)), label2id=lid)
    no_decay = set()
    for mname, mod in model.named_modules():
        for pname, _ in mod.named_parameters(recurse=False):
            if isinstance(mod, torch.nn.LayerNorm) or pname == "bias":
                no_decay.add(f"{mname}.{pname}" if mname else pname)
    params = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in params if n not in no_decay], "weight_decay": WD},
                             {"params": [p for n, p in params if n in no_decay], "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    steps = a.epochs * math.ceil(len(tr_x) / BATCH)
    warmup = int(math.floor(steps * WARMUP + 0.5))  # Swift's .rounded(): half away from zero
    sch = get_linear_schedule_with_warmup(opt, warmup, steps)

    def logits_of(e, n):
        model.eval()
        out = []
        with torch.inference_mode():
            for b in range(0, n, EVAL_BATCH):
                out.append(model(**batch(e, range(b, min(b + EVAL_BATCH, n)))).logits.float().numpy())
        return np.concatenate(out)

    def bce(z, t):  # as bertd: mean of softplus(z) - y z in double
        z = z.astype(np.float64)
        return float(np.mean(np.logaddexp(0, z) - t * z))

    def sigmoid(z):
        return 1 / (1 + np.exp(-z.astype(np.float64)))

    order_rng = random.Random(a.seed)
    train_s = eval_s = 0.0
    best = None  # (loss, epoch, state_dict, validation probabilities)
    history = []
    seen = 0
    for ep in range(a.epochs):
        t0 = time.time()
        model.train()
        idx = list(range(len(tr_x)))
        order_rng.shuffle(idx)
        loss_sum = 0.0
        nb = 0
        for b in range(0, len(idx), BATCH):
            bi = idx[b:b + BATCH]
            out = model(**batch(enc["train"], bi))
            out.loss = loss_fn(out.logits, torch.from_numpy(tr_t[bi]))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step(); sch.step(); opt.zero_grad(set_to_none=True)
            seen += len(bi); loss_sum += out.loss.item(); nb += 1
            if nb % 50 == 0:
                el = train_s + time.time() - t0
                print(f"epoch {ep + 1} step {nb}: loss {loss_sum / nb:.4f}, {seen / el:.1f} examples/s", file=sys.stderr, flush=True)
        train_s += time.time() - t0
        t0 = time.time()
        vz = logits_of(enc["validation"], len(va_x))
        vloss = bce(vz, va_t)
        eval_s += time.time() - t0
        history.append({"epoch": ep + 1, "train_loss": loss_sum / nb, "validation_loss": vloss})
        print(f"epoch {ep + 1}: train loss {loss_sum / nb:.4f}  validation loss {vloss:.4f}  ({train_s:.0f} s training so far)",
              file=sys.stderr, flush=True)
        if best is None or vloss < best[0]:
            t0 = time.time()
            best = (vloss, ep + 1, copy.deepcopy(model.state_dict()), sigmoid(vz))
            train_s += time.time() - t0  # keeping the checkpoint counts as training, as bertd's write does
    model.load_state_dict(best[2])
    thresholds = tuned_thresholds(best[3], va_t.astype(bool))
    t0 = time.time()
    te_p = sigmoid(logits_of(enc["test"], len(te_x)))
    test_s = time.time() - t0
    at_half = scores(te_p, te_t, np.full(len(labels), 0.5))
    at_tuned = scores(te_p, te_t, thresholds)
    result = {
        "recipe": "pytorch", "torch": torch.__version__, "model": os.path.basename(os.path.normpath(a.model)),
        "train_file": a.train, "train_examples": len(tr_x), "validation_examples": len(va_x), "test_examples": len(te_x),
        "labels": labels, "epochs": a.epochs, "lr": a.lr, "batch_size": BATCH, "loss": a.loss, "max_length": MAXLEN, "seed": a.seed,
        "steps": steps, "warmup_steps": warmup, "threads": torch.get_num_threads(),
        "tokenize_seconds": tokenize_s, "train_seconds": train_s, "train_examples_per_s": seen / train_s,
        "validation_seconds": eval_s, "test_seconds": test_s, "epochs_history": history, "best_epoch": best[1],
        "tuned_thresholds": dict(zip(labels, thresholds.tolist())),
        "micro_f1": at_half["micro_f1"], "macro_f1": at_half["macro_f1"],
        "micro_f1_tuned": at_tuned["micro_f1"], "macro_f1_tuned": at_tuned["macro_f1"], "macro_roc_auc": at_half["macro_roc_auc"],
    }
    print(f"{'recipe':8s} {'train_s':>8s} {'ex/s':>7s} {'microF1@.5':>10s} {'macroF1@.5':>10s} {'microF1@t':>9s} {'macroF1@t':>9s} {'macroAUC':>8s}")
    print(f"{'pytorch':8s} {train_s:8.1f} {seen / train_s:7.2f} {result['micro_f1']:10.4f} {result['macro_f1']:10.4f} "
          f"{result['micro_f1_tuned']:9.4f} {result['macro_f1_tuned']:9.4f} {result['macro_roc_auc']:8.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
