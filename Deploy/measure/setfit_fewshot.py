#!/usr/bin/env python3
"""SetFit itself (the `setfit` package on PyTorch + sentence-transformers), one sample and seed per run.

The PyTorch reference of Deploy/measure/few-shot.sh (not part of CI): what
`bertctl train --local --model MODEL --train SAMPLE --method few-shot --seed S` claims to reproduce,
run with SetFit's own defaults and nothing else changed:

  model      SetFitModel.from_pretrained(MODEL): the sentence-transformers directory (its modules.json:
             encoder, mean pooling, normalisation) and a scikit-learn LogisticRegression() head
  pairs      setfit's ContrastiveDataset, sampling_strategy "oversampling" (num_iterations None)
  body       CosineSimilarityLoss, batch 16 pairs, 1 epoch, body lr 2e-5, 10 % warm-up (setfit defaults)
  head       LogisticRegression() fitted on the tuned body's embeddings of the whole sample
  seed       TrainingArguments(seed=S)
  metrics    accuracy and macro-F1 (sklearn, zero_division=0) of model.predict on the test file
  threads    torch.set_num_threads(THREADS, default 2)

The only arguments given to TrainingArguments besides the seed are report_to="none" (no logging
integrations) and an output dir in /tmp. Train seconds: trainer.train() (pairs, body and head).

usage: setfit_fewshot.py --model DIR --train SAMPLE.tsv --test TEST.tsv [--seed 42] [--json OUT]
       -> one JSON line on stdout (accuracy, macro_f1, train_seconds, …); progress on stderr
"""
import argparse, json, os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from finetune_pytorch import read_tsv  # noqa: E402  (the same TSV reading as the fine-tuning recipe)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    ap.add_argument("--json")
    a = ap.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    import setfit, sentence_transformers
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from sklearn.metrics import accuracy_score, f1_score

    tr_x, tr_y = read_tsv(a.train)
    te_x, te_y = read_tsv(a.test)
    model = SetFitModel.from_pretrained(a.model)
    with tempfile.TemporaryDirectory(prefix="setfit-out.") as out:
        args = TrainingArguments(seed=a.seed, report_to="none", output_dir=out)
        trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict({"text": tr_x, "label": tr_y}))
        t0 = time.monotonic()
        trainer.train()
        train_seconds = time.monotonic() - t0
    t1 = time.monotonic()
    pred = [str(p) for p in model.predict(te_x, batch_size=64, as_numpy=True)]
    eval_seconds = time.monotonic() - t1
    r = {"seed": a.seed, "train": a.train, "examples": len(tr_x),
         "accuracy": accuracy_score(te_y, pred), "macro_f1": f1_score(te_y, pred, average="macro", zero_division=0),
         "train_seconds": train_seconds, "eval_seconds": eval_seconds, "test_examples": len(te_x),
         "setfit": setfit.__version__, "sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__,
         "batch_size": args.batch_size, "num_epochs": args.num_epochs, "body_learning_rate": args.body_learning_rate,
         "sampling_strategy": args.sampling_strategy, "num_iterations": args.num_iterations}
    line = json.dumps(r)
    print(line)
    if a.json:
        with open(a.json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
