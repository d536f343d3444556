#!/usr/bin/env python3
"""Reference numbers for the explanations: integrated gradients on the embeddings layer and the
attention maps, from Hugging Face transformers on PyTorch, computed in float64.

Needs: torch, transformers, safetensors, numpy (pip); captum is NOT needed: integrated gradients
are done by hand with forward hooks, as Captum's LayerIntegratedGradients does them on the
embeddings layer. Reuses generate.py beside this file (dropout-off and versions helpers). CI never
runs it: the files it writes are the fixtures (README.md beside this file describes them).

usage: generate_explanations.py [--tiny-only] FIXTURES MINILM_DIR OUT_DIR
  FIXTURES    Tests/BertTrainingTests/Fixtures (read: tiny-*/{config.json,model.safetensors,
              reference.safetensors}, minilm/classifier_head_init.safetensors) and
              Tests/BertCoreTests/Fixtures/minilm/sentences.jsonl, found as
              FIXTURES/../../BertCoreTests/Fixtures/minilm/sentences.jsonl
  MINILM_DIR  a Hugging Face directory of all-MiniLM-L6-v2 (bash Deploy/fetch-model.sh DIR)
  OUT_DIR     written: OUT_DIR/<model>/explanations.{safetensors,json} for tiny-bert,
              tiny-distilbert, tiny-roberta, tiny-xlm-roberta, tiny-electra and minilm, and
              OUT_DIR/versions.json
  --tiny-only skip minilm/

Every sequence is one row of a batch of one, without padding (the Swift engine is padding-free):
the tiny models' rows are the unpadded rows of reference.safetensors' 3 x 11 batch; MiniLM's are
the first 4 sentences of sentences.jsonl, tokenized by MINILM_DIR's tokenizer.

Integrated gradients, for layer = the family's embeddings module (for ELECTRA its output before
electra.embeddings_project): x = the layer's output for the real ids; x' = the baseline's;
x_a = x' + a (x - x') replaces the layer's output (forward hook) and the rest of the model runs
from there; attribution per token = sum over the hidden dim of (x - x') * sum_k w_k dlogit_t/dx_a_k.
  baselines  pad:  every non-special token id replaced by pad_token_id (positions, types unchanged)
             zero: every non-special token's word-embedding vector replaced by zeros (position and
                   type embeddings still added, LayerNorm applied)
  rules      gauss_legendre n: numpy leggauss(n) on [0, 1]: a = (nodes + 1) / 2, w = weights / 2
             trapezoid n: a = linspace(0, 1, n), w = 1/(n-1), first and last halved
  tiny       pad and zero x gauss_legendre16, trapezoid16, gauss_legendre256; targets: the argmax
             label and label 0 if the argmax is not 0; special = first and last token
  minilm     pad x gauss_legendre32, gauss_legendre256; target: the argmax label (3-label head
             of classifier_head_init.safetensors); special = [CLS] and [SEP]
Attention: output_attentions=True (eager attention), per layer [heads, L, L].

Importing this module has no side effects.
"""
import argparse, json, os, sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402  (no side effects on import)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertForSequenceClassification  # noqa: E402

TINY = ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra"]
TINY_CASES = [("pad", "gauss_legendre", 16), ("pad", "trapezoid", 16), ("pad", "gauss_legendre", 256),
              ("zero", "gauss_legendre", 16), ("zero", "trapezoid", 16), ("zero", "gauss_legendre", 256)]
MINILM_CASES = [("pad", "gauss_legendre", 32), ("pad", "gauss_legendre", 256), ("zero", "gauss_legendre", 32)]
MINILM_SENTENCES = 4


def rule(name, n):
    """(alphas, weights) in float64 on [0, 1], as Captum's gausslegendre and riemann_trapezoid."""
    if name == "gauss_legendre":
        nodes, w = np.polynomial.legendre.leggauss(n)
        return (nodes + 1) / 2, w / 2
    if name == "trapezoid":
        w = np.full(n, 1.0 / (n - 1))
        w[0] /= 2
        w[-1] /= 2
        return np.linspace(0, 1, n), w
    raise ValueError(name)


def family(model):
    """(base model, embeddings layer) of a *ForSequenceClassification."""
    for attr in ("bert", "distilbert", "roberta", "electra"):
        if hasattr(model, attr):
            base = getattr(model, attr)
            return attr, base.embeddings
    raise ValueError(type(model).__name__)


class Explainer:
    """One model in float64, eval mode, no parameter gradients."""

    def __init__(self, model):
        self.model = model.double().eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.prefix, self.layer = family(self.model)
        self.pad = self.model.config.pad_token_id

    def inputs(self, ids, type_ids):
        """Model keyword arguments for a batch of `ids` [B, L]. RoBERTa-style models get explicit
        position ids: those HF computes from the real ids (padding_idx + 1 onward), so that the
        pad baseline (ids = pad) keeps them."""
        kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        if type_ids is not None:
            kw["token_type_ids"] = type_ids.expand_as(ids)
        if self.prefix == "roberta":
            kw["position_ids"] = self.positions.expand_as(ids)
        return kw

    def set_row(self, ids, type_ids):
        self.ids = ids.reshape(1, -1)
        self.type_ids = None if type_ids is None else type_ids.reshape(1, -1)
        if self.prefix == "roberta":
            emb = self.layer
            self.positions = emb.create_position_ids_from_input_ids(self.ids, emb.padding_idx)
            L = self.ids.shape[1]
            assert torch.equal(self.positions[0], torch.arange(L) + emb.padding_idx + 1), self.positions

    def run(self, ids=None, zero_words=None, replace=None, attentions=False):
        """Forward; returns (logits, layer output, attentions). zero_words: bool [L] of tokens whose
        word-embedding vector is zeroed; replace: a tensor [B, L, H] that replaces the layer's output."""
        ids = self.ids if ids is None else ids
        captured = {}
        hooks = []
        if zero_words is not None:
            keep = (~zero_words).to(torch.float64).reshape(1, -1, 1)
            hooks.append(self.layer.word_embeddings.register_forward_hook(lambda m, i, o: o * keep))

        def at_layer(m, i, o):
            captured["x"] = o.detach().clone()
            return replace if replace is not None else o
        hooks.append(self.layer.register_forward_hook(at_layer))
        try:
            kw = self.inputs(ids.expand(replace.shape[0], -1) if replace is not None else ids, self.type_ids)
            out = self.model(**kw, output_attentions=attentions)
        finally:
            for h in hooks:
                h.remove()
        return out.logits, captured["x"], out.attentions

    def baseline(self, kind, special):
        if kind == "pad":
            ids = torch.where(special.reshape(1, -1), self.ids, torch.full_like(self.ids, self.pad))
            with torch.no_grad():
                logits, xb, _ = self.run(ids=ids)
        elif kind == "zero":
            with torch.no_grad():
                logits, xb, _ = self.run(zero_words=~special)
        else:
            raise ValueError(kind)
        return logits[0], xb

    def integrated_gradients(self, x, xb, target, alphas, weights):
        a = torch.tensor(alphas, dtype=torch.float64).reshape(-1, 1, 1)
        w = torch.tensor(weights, dtype=torch.float64).reshape(-1, 1, 1)
        xa = (xb + a * (x - xb)).detach().requires_grad_(True)  # [n, L, H]
        with torch.enable_grad():
            logits, _, _ = self.run(replace=xa)
            logits[:, target].sum().backward()  # rows are independent: xa.grad[k] = d logit_k / d xa_k
        grad = (w * xa.grad).sum(0, keepdim=True)
        return ((x - xb) * grad).sum(-1)[0]


def explain(ex, rows, cases, all_targets):
    """rows: list of dicts with ids [L], type_ids [L] or None, special bool [L] (+ extra json keys).
    Returns (tensors, json rows, printed stats)."""
    tensors, jrows, stats = {}, [], []
    rules = sorted({(r, n) for _, r, n in cases})
    for r, n in rules:
        a, w = rule(r, n)
        tensors[f"rule.{r}{n}.alphas"] = torch.tensor(a)
        tensors[f"rule.{r}{n}.weights"] = torch.tensor(w)
    for ri, row in enumerate(rows):
        ids, tt, special = row["ids"], row["type_ids"], row["special"]
        ex.set_row(ids, tt)
        p = f"row{ri}"
        tensors[p + ".ids"] = ids.to(torch.int64)
        if tt is not None:
            tensors[p + ".type_ids"] = tt.to(torch.int64)
        tensors[p + ".special"] = special.to(torch.int64)
        with torch.no_grad():
            logits, x, att = ex.run(attentions=True)
        logits = logits[0]
        names = []
        for l, a in enumerate(att):
            tensors[f"{p}.attention.layer{l}"] = a[0].contiguous()
            names.append(f"{p}.attention.layer{l}")
        pred = int(logits.argmax())
        targets = [pred] + ([0] if all_targets and pred != 0 else [])
        jr = {k: v for k, v in row.items() if k not in ("ids", "type_ids", "special")}
        jr.update({"row": ri, "length": int(ids.numel()), "ids": p + ".ids",
                   "type_ids": p + ".type_ids" if tt is not None else None, "special": p + ".special",
                   "special_positions": [int(i) for i in torch.nonzero(special).flatten()],
                   "logits": logits.tolist(), "argmax": pred, "targets": targets, "attention": names,
                   "baseline_logits": {}, "ig": []})
        base = {}
        for kind in sorted({b for b, _, _ in cases}, key=["pad", "zero"].index):
            base[kind] = ex.baseline(kind, special)
            jr["baseline_logits"][kind] = base[kind][0].tolist()
        for target in targets:
            for kind, r, n in cases:
                bl, xb = base[kind]
                a, w = rule(r, n)
                attr = ex.integrated_gradients(x, xb, target, a, w)
                name = f"{p}.ig.{kind}.{r}{n}.target{target}.attributions"
                tensors[name] = attr.contiguous()
                delta = float(logits[target] - bl[target])
                gap = float(attr.sum()) - delta
                jr["ig"].append({"baseline": kind, "rule": r, "steps": n, "target": target,
                                 "logit": float(logits[target]), "baseline_logit": float(bl[target]),
                                 "completeness_gap": gap, "attributions": name})
                stats.append({"row": ri, "target": target, "baseline": kind, "rule": f"{r}{n}",
                              "delta": abs(delta), "attr_max": float(attr.abs().max()),
                              "attr_sum_abs": float(attr.abs().sum()), "gap": abs(gap)})
        jrows.append(jr)
    return tensors, jrows, stats


def write(out, name, ex, tensors, jrows, extra):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(d, "explanations.safetensors"))
    cfg = ex.model.config
    meta = {"model": name, "class": type(ex.model).__name__, "layer": ex.prefix + ".embeddings",
            "num_layers": cfg.num_hidden_layers if hasattr(cfg, "num_hidden_layers") else cfg.n_layers,
            "num_heads": cfg.num_attention_heads if hasattr(cfg, "num_attention_heads") else cfg.n_heads,
            "pad_token_id": ex.pad, "computed_in": "float64", "tensors": "F64 floats, I64 ids/type_ids/special",
            "attribution": "sum over hidden of (x - x') * sum_k w_k dlogit_target/dx_a at x_a = x' + a_k (x - x')",
            "completeness_gap": "sum(attributions) - (logit - baseline_logit)"}
    meta.update(extra)
    meta["rows"] = jrows
    with open(os.path.join(d, "explanations.json"), "w") as f:
        json.dump(meta, f, indent=1)


def summarize(name, stats):
    """Prints the magnitudes that say how sensitive a 1e-4 comparison is."""
    print(f"== {name}")
    deltas = {}
    for s in stats:
        deltas.setdefault((s["row"], s["target"], s["baseline"]), s["delta"])
    for (row, target, kind), dl in deltas.items():
        line = [s for s in stats if (s["row"], s["target"], s["baseline"]) == (row, target, kind)]
        gaps = " ".join(f"{s['rule']}={s['gap']:.1e}" for s in line)
        print(f"  row{row} target{target} {kind:4s}  |logit(x)-logit(x')|={dl:.3e}  max|attr|={line[0]['attr_max']:.3e}"
              f"  sum|attr|={line[0]['attr_sum_abs']:.3e}  |gap| {gaps}")
    small = sum(1 for d in deltas.values() if d < 1e-3)
    print(f"  {small}/{len(deltas)} (row, target, baseline) with |logit(x)-logit(x')| < 1e-3")


def tiny(fixtures, out):
    for name in TINY:
        d = os.path.join(fixtures, name)
        model = AutoModelForSequenceClassification.from_pretrained(d, attn_implementation="eager")
        ex = Explainer(model)
        ref = load_file(os.path.join(d, "reference.safetensors"))
        ids, mask = ref["input.input_ids"], ref["input.attention_mask"]
        tt = ref.get("input.token_type_ids")
        rows = []
        for r in range(ids.shape[0]):
            keep = mask[r] == 1
            assert bool(keep[: int(keep.sum())].all()), "padding only at the end"
            rid = ids[r][keep].clone()
            special = torch.zeros(rid.numel(), dtype=torch.bool)
            special[0] = special[-1] = True
            rows.append({"ids": rid, "type_ids": None if tt is None else tt[r][keep].clone(), "special": special})
        tensors, jrows, stats = explain(ex, rows, TINY_CASES, all_targets=True)
        write(out, name, ex, tensors, jrows, {"special_tokens": "first and last token of each unpadded row",
                                              "source": "reference.safetensors input.* rows, unpadded"})
        summarize(name, stats)


def minilm(fixtures, minilm_dir, out):
    head_path = os.path.join(fixtures, "minilm", "classifier_head_init.safetensors")
    head = load_file(head_path)
    num_labels = head["classifier.weight"].shape[0]
    labels = g.LABELS if num_labels == 3 else {"num_labels": num_labels}  # the head file decides: 3 (neg/neu/pos)
    cfg = g.no_dropout(BertConfig.from_pretrained(minilm_dir, **labels))
    model, info = BertForSequenceClassification.from_pretrained(minilm_dir, config=cfg, attn_implementation="eager",
                                                                output_loading_info=True)
    missing = set(info["missing_keys"])
    assert missing <= set(head), f"weights missing from {minilm_dir} and the head file: {missing - set(head)}"
    params = dict(model.named_parameters())
    used = []
    with torch.no_grad():
        for k, v in head.items():  # strict: every tensor of the file goes into the model, shapes equal
            assert k in params, f"{head_path}: {k} is no parameter of the model"
            assert params[k].shape == v.shape, (k, params[k].shape, v.shape)
            params[k].copy_(v)
            used.append(k)
    assert sorted(used) == sorted(head), "unused tensors in the head file"
    ex = Explainer(model)
    tok = AutoTokenizer.from_pretrained(minilm_dir)
    sentences_path = os.path.join(fixtures, "..", "..", "BertCoreTests", "Fixtures", "minilm", "sentences.jsonl")
    rows = []
    with open(sentences_path) as f:
        lines = [json.loads(l) for l in f][:MINILM_SENTENCES]
    for i, s in enumerate(lines):
        enc = tok(s["text"], add_special_tokens=True)
        assert enc["input_ids"] == s["input_ids"], f"sentence {i}: the tokenizer disagrees with sentences.jsonl"
        rid = torch.tensor(enc["input_ids"])
        special = torch.tensor([t in tok.all_special_ids for t in enc["input_ids"]])
        assert rid[special].tolist() == [tok.cls_token_id, tok.sep_token_id] and bool(special[0] and special[-1])
        rows.append({"sentence_index": i, "ids": rid, "type_ids": torch.tensor(enc["token_type_ids"]), "special": special})
    tensors, jrows, stats = explain(ex, rows, MINILM_CASES, all_targets=False)
    write(out, "minilm", ex, tensors, jrows,
          {"special_tokens": "[CLS] and [SEP]", "head": "classifier.* from classifier_head_init.safetensors; pooler from the model",
           "source": f"the first {MINILM_SENTENCES} sentences of BertCoreTests/Fixtures/minilm/sentences.jsonl (row r = sentence r)"})
    summarize("minilm", stats)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Integrated-gradients and attention reference fixtures (float64).")
    ap.add_argument("--tiny-only", action="store_true", help="skip minilm/")
    ap.add_argument("fixtures", help="Tests/BertTrainingTests/Fixtures")
    ap.add_argument("minilm_dir", help="Hugging Face directory of all-MiniLM-L6-v2")
    ap.add_argument("out_dir", help="output directory (created)")
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    import numpy, safetensors
    info = dict(g.versions(), numpy=numpy.__version__, safetensors=safetensors.__version__)
    tiny(a.fixtures, a.out_dir)
    if not a.tiny_only:
        minilm(a.fixtures, a.minilm_dir, a.out_dir)
    g.write_versions(a.out_dir, info)
    print("ok", info)


if __name__ == "__main__":
    main()
