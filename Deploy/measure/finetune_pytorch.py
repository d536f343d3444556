#!/usr/bin/env python3
"""Single-label fine-tuning with PyTorch + transformers on bertd's recipe, one seed per run.

The PyTorch side of Deploy/measure/seeds.sh (not part of CI): a seeded version of
../shared/tools/peers/ref_finetune.py that mirrors, for one seed S,
`bertctl sweep --model MODEL --train DATA/train.tsv --validation DATA/dev.tsv --grid lr=LR
 --epochs E --seed S` followed by `bertctl eval --local RUN --data DATA/test.tsv --max-length 128`:

  model      BertForSequenceClassification: the checkpoint's encoder and pooler, a new classifier
             Linear(hidden, labels) initialised normal(0, 0.02), bias 0 (drawn after
             torch.manual_seed(S)); dropout 0.1 on hidden states, attention and the classifier input
  loss       cross-entropy, mean over the batch
  optimizer  AdamW (betas 0.9/0.999, eps 1e-8), weight decay 0.01 except biases and LayerNorm
  schedule   linear warm-up over round(10 % of the steps) (bertd rounds), then linear decay to 0
  steps      batch 32 (the last, short batch kept), a new shuffle every epoch (seeded by S),
             grad-norm clipping at 1.0, max length 128 (truncation), token type ids 0
  selection  validation loss (mean cross-entropy, double) at every epoch end on --validation;
             the lowest is the kept checkpoint, which is evaluated on --test
  metrics    accuracy and macro-F1 (sklearn, zero_division=0) of the argmax on the test file
  threads    torch.set_num_threads(2)

Labels: the sorted labels of the training file (bertd's default label set).
Train seconds: the training loop only (texts are tokenized once beforehand, as bertd does; the
validation passes are excluded, as bertd's timings.training excludes them; copying the kept
checkpoint counts as training, as bertd's checkpoint write does).

usage: finetune_pytorch.py [--model DIR] [--data DIR | --train TSV --validation TSV --test TSV]
                           [--seed 42] [--epochs 3] [--lr 5e-5] [--max-length 128] [--json OUT]
       -> one JSON line on stdout (accuracy, macro_f1, train_seconds, …); progress on stderr
"""
import argparse, copy, json, math, os, random, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def read_tsv(path):
    """TSV without quoting (as bertd reads .tsv): header row with text and label columns."""
    lines = open(path, encoding="utf-8").read().split("\n")
    header = lines[0].rstrip("\r").split("\t")
    ti, li = header.index("text"), header.index("label")
    texts, labels = [], []
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        f = line.split("\t")
        texts.append(f[ti])
        labels.append(f[li])
    return texts, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "hate-speech"),
                    help="a directory with train.tsv, dev.tsv and test.tsv")
    ap.add_argument("--train"); ap.add_argument("--validation"); ap.add_argument("--test")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args()
    train_p = a.train or os.path.join(a.data, "train.tsv")
    valid_p = a.validation or os.path.join(a.data, "dev.tsv")
    test_p = a.test or os.path.join(a.data, "test.tsv")

    import numpy as np, torch
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    torch.set_num_threads(2)
    torch.manual_seed(a.seed); random.seed(a.seed); np.random.seed(a.seed)
    BATCH, MAXLEN, WD, WARMUP, CLIP, EVAL_BATCH = 32, a.max_length, 0.01, 0.1, 1.0, 64

    tr_x, tr_y = read_tsv(train_p)
    va_x, va_y = read_tsv(valid_p)
    te_x, te_y = read_tsv(test_p)
    labels = sorted(set(tr_y))
    lid = {l: i for i, l in enumerate(labels)}
    for name, ys in (("validation", va_y), ("test", te_y)):
        unknown = sorted(set(ys) - set(labels))
        if unknown:
            sys.exit(f"{name} labels not in the training file: {unknown}")
    tr_t, va_t, te_t = (np.array([lid[y] for y in ys], dtype=np.int64) for ys in (tr_y, va_y, te_y))

    tok = AutoTokenizer.from_pretrained(a.model)
    t0 = time.time()
    enc = {name: tok(x, truncation=True, max_length=MAXLEN)["input_ids"] for name, x in (("train", tr_x), ("validation", va_x), ("test", te_x))}
    tokenize_s = time.time() - t0

    def batch(ids_all, idx):
        ids = [ids_all[i] for i in idx]
        n = max(len(s) for s in ids)
        input_ids = torch.zeros((len(ids), n), dtype=torch.long)
        mask = torch.zeros((len(ids), n), dtype=torch.long)
        for r, s in enumerate(ids):
            input_ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(input_ids)}

    cfg = BertConfig.from_pretrained(a.model, num_labels=len(labels), hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                                     classifier_dropout=None, id2label=dict(enumerate(labels)), label2id=lid)
    model = BertForSequenceClassification.from_pretrained(a.model, config=cfg, dtype=torch.float32)
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

    def logits_of(ids_all):
        model.eval()
        out = []
        with torch.inference_mode():
            for b in range(0, len(ids_all), EVAL_BATCH):
                out.append(model(**batch(ids_all, range(b, min(b + EVAL_BATCH, len(ids_all))))).logits.float().numpy())
        return np.concatenate(out).astype(np.float64)

    def cross_entropy(z, t):  # as bertd: mean of logsumexp(z) - z[y], in double
        m = z.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
        return float(np.mean(lse - z[np.arange(len(t)), t]))

    order_rng = random.Random(a.seed)
    train_s = eval_s = 0.0
    best = None  # (validation loss, epoch, state_dict)
    history = []
    seen = 0
    for ep in range(a.epochs):
        t0 = time.time()
        model.train()
        idx = list(range(len(tr_x)))
        order_rng.shuffle(idx)
        loss_sum, nb = 0.0, 0
        for b in range(0, len(idx), BATCH):
            bi = idx[b:b + BATCH]
            out = model(**batch(enc["train"], bi), labels=torch.from_numpy(tr_t[bi]))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step(); sch.step(); opt.zero_grad(set_to_none=True)
            seen += len(bi); loss_sum += out.loss.item(); nb += 1
            if nb % 20 == 0:
                el = train_s + time.time() - t0
                print(f"seed {a.seed} epoch {ep + 1} step {nb}: loss {loss_sum / nb:.4f}, {seen / el:.1f} examples/s", file=sys.stderr, flush=True)
        train_s += time.time() - t0
        t0 = time.time()
        vz = logits_of(enc["validation"])
        vloss = cross_entropy(vz, va_t)
        vacc = float((vz.argmax(1) == va_t).mean())
        eval_s += time.time() - t0
        history.append({"epoch": ep + 1, "train_loss": loss_sum / nb, "validation_loss": vloss, "validation_accuracy": vacc})
        print(f"seed {a.seed} epoch {ep + 1}: train loss {loss_sum / nb:.4f}  validation loss {vloss:.4f}  accuracy {vacc:.4f}  "
              f"({train_s:.0f} s training so far)", file=sys.stderr, flush=True)
        if best is None or vloss < best[0]:
            t0 = time.time()
            best = (vloss, ep + 1, copy.deepcopy(model.state_dict()))
            train_s += time.time() - t0
    model.load_state_dict(best[2])
    t0 = time.time()
    pred = logits_of(enc["test"]).argmax(1)
    test_s = time.time() - t0
    result = {
        "recipe": "pytorch", "torch": torch.__version__, "model": os.path.basename(os.path.normpath(a.model)),
        "train_file": train_p, "validation_file": valid_p, "test_file": test_p,
        "train_examples": len(tr_x), "validation_examples": len(va_x), "test_examples": len(te_x), "labels": labels,
        "seed": a.seed, "epochs": a.epochs, "lr": a.lr, "batch_size": BATCH, "max_length": MAXLEN,
        "steps": steps, "warmup_steps": warmup, "threads": torch.get_num_threads(),
        "epochs_history": history, "best_epoch": best[1],
        "accuracy": float(accuracy_score(te_t, pred)), "macro_f1": float(f1_score(te_t, pred, average="macro", zero_division=0)),
        "tokenize_seconds": tokenize_s, "train_seconds": train_s, "train_examples_per_s": seen / train_s,
        "validation_seconds": eval_s, "test_seconds": test_s,
    }
    line = json.dumps(result)
    print(line, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
