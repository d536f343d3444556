#!/usr/bin/env python3
"""Reference outputs from Hugging Face transformers (PyTorch), used as ground truth
for the Swift engine's parity tests.

Needs: torch, transformers, safetensors, peft, tokenizers (pip). Not needed by tests:
the files it writes are the fixtures. CI never runs it (see README.md beside this file).

usage: generate.py [--tiny-only] MINILM_DIR OUT_DIR
  MINILM_DIR  a Hugging Face directory of all-MiniLM-L6-v2 (config.json, model.safetensors, vocab.txt);
              the repo has one in models/all-MiniLM-L6-v2. The tiny models use only its vocab.txt.
  OUT_DIR     written: OUT_DIR/{tiny-bert,tiny-distilbert,tiny-roberta,minilm}/ and OUT_DIR/versions.json
  --tiny-only skip minilm/ (the tiny models alone take a few seconds)

Importing this module has no side effects: generate_families.py reuses its functions.
"""
import argparse, json, os, sys, copy
import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertForSequenceClassification, BertModel, BertTokenizer,
                          BertTokenizerFast, DistilBertConfig, DistilBertForSequenceClassification,
                          RobertaConfig, RobertaForSequenceClassification)

torch.set_num_threads(2)

LABELS = {"num_labels": 3, "id2label": {0: "neg", 1: "neu", 2: "pos"}, "label2id": {"neg": 0, "neu": 1, "pos": 2}}

SENTENCES = [
    "The film was a delight from start to finish.",
    "I wouldn't recommend this to anyone; the plot is a mess.",
    "Doh! Why did I eat the whole donut?",
    "Eat my shorts, man!",
    "it's   FINE.   really, it is.",
    "Café au lait, naïve résumé, façade — accents everywhere.",
    "東京は大きい都市です and so is 北京.",
    "Emoji test 😀👍🏽 and symbols ©®™ plus math ∑∫√.",
    "unbelievably unforgettable antidisestablishmentarianism",
    "Tabs\tand\nnewlines\r\nand\u00a0non-breaking\u2009spaces.",
    "Zero\u200bwidth and soft\u00adhyphen and control\u0007chars.",
    "URLs like https://example.com/a?b=c&d=e and emails a.b@c.org.",
    "Numbers: 3.14159, 1,000,000 and -42 degrees.",
    "A",
    "?!?!...",
    "Ελληνικά και русский текст тоже.",
    "The quick brown fox jumps over the lazy dog " * 6,
    "ALL CAPS SHOUTING IS ANNOYING",
    "don't can't won't shouldn't y'all'd've",
    "Ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ and ligature ﬁne",
]


def sd(model):
    return {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}


def save_hf_dir(model, tok_vocab_lines, path, extra_cfg=None):
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    if tok_vocab_lines is not None:
        with open(os.path.join(path, "vocab.txt"), "w") as f:
            f.write("\n".join(tok_vocab_lines) + "\n")


def no_dropout(cfg):
    for k in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
              "dropout", "attention_dropout", "seq_classif_dropout"):
        if hasattr(cfg, k):
            setattr(cfg, k, 0.0)
    return cfg


def train_reference(model, batch, steps, lr, path, extra=None):
    """One forward/backward with every gradient, then `steps` AdamW steps' losses."""
    model.train()
    out = model(**batch)
    out.loss.backward()
    tensors = {}
    for k, v in batch.items():
        tensors["input." + k] = v.contiguous()
    tensors["output.logits"] = out.logits.detach().contiguous()
    tensors["output.loss"] = out.loss.detach().reshape(1)
    for name, p in model.named_parameters():
        if p.grad is not None:
            tensors["grad." + name] = p.grad.detach().contiguous()
    model.zero_grad()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                            betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        l = model(**batch).loss
        losses.append(l.item())
        l.backward()
        opt.step()
    losses.append(model(**batch).loss.item())
    for name, p in model.named_parameters():
        if p.requires_grad and ("classifier" in name or "pooler" in name or name.endswith("LayerNorm.weight")):
            tensors["after_adamw." + name] = p.detach().contiguous().clone()
    save_file(tensors, path)
    meta = {"adamw": {"lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01,
                      "steps": steps, "losses_before_each_step_and_final": losses}}
    if extra:
        meta.update(extra)
    return meta


def tiny_batch():
    """The seeded batch of every tiny model: 3 x 11 ids (pad 0, first id 101), rows 1 and 2 padded
    after 7 and 4 tokens, labels [0, 2, 1]. Leaves torch's RNG right after the batch (seed 0)."""
    torch.manual_seed(0)
    B, T = 3, 11
    ids = torch.randint(5, 512, (B, T))
    ids[:, 0] = 101 % 512  # any id works: the vocab is a slice
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 4:] = 0
    ids = ids * mask  # pad id 0 where masked
    labels = torch.tensor([0, 2, 1])
    return ids, mask, labels


def bert_token_types(ids):
    """tiny-bert's token types: row 0 has type 1 from position 6 on, the rest type 0."""
    tt = torch.zeros_like(ids)
    tt[0, 6:] = 1
    return tt


def roberta_ids(ids, mask):
    """RoBERTa-style ids from the BERT-style batch: pad id 1 where masked, <s> = 0 first."""
    rids = ids.clone()
    rids[mask == 0] = 1  # roberta pad id 1
    rids[:, 0] = 0       # <s>
    return rids


def write_tiny(out, name, model, batch, vocab=None):
    """OUT/name/: config.json + model.safetensors (the weights before training), vocab.txt if given,
    reference.safetensors and reference.json (5 AdamW steps at lr 1e-3)."""
    torch.manual_seed(1)
    d = os.path.join(out, name)
    save_hf_dir(model, vocab, d)
    meta = train_reference(model, batch, steps=5, lr=1e-3, path=os.path.join(d, "reference.safetensors"))
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def tiny_models(minilm_dir, out):
    ids, mask, labels = tiny_batch()
    vocab = [l.rstrip("\n") for l in open(os.path.join(minilm_dir, "vocab.txt"))][:512]

    specs = []
    cfg = no_dropout(BertConfig(vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                                num_labels=3, id2label={0: "neg", 1: "neu", 2: "pos"},
                                label2id={"neg": 0, "neu": 1, "pos": 2}))
    tt = bert_token_types(ids)
    specs.append(("tiny-bert", BertForSequenceClassification(cfg),
                  {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt, "labels": labels}))
    cfg = no_dropout(DistilBertConfig(vocab_size=512, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                                      max_position_embeddings=64, num_labels=3,
                                      id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2}))
    specs.append(("tiny-distilbert", DistilBertForSequenceClassification(cfg),
                  {"input_ids": ids, "attention_mask": mask, "labels": labels}))
    rids = roberta_ids(ids, mask)
    cfg = no_dropout(RobertaConfig(vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                   intermediate_size=64, max_position_embeddings=66, type_vocab_size=1,
                                   pad_token_id=1, bos_token_id=0, eos_token_id=2, num_labels=3,
                                   id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2}))
    specs.append(("tiny-roberta", RobertaForSequenceClassification(cfg),
                  {"input_ids": rids, "attention_mask": mask, "labels": labels}))
    index = {}
    for name, model, batch in specs:
        index[name] = write_tiny(out, name, model, batch, vocab if name != "tiny-roberta" else None)
    return index


def minilm(MINILM, OUT):
    d = os.path.join(OUT, "minilm")
    os.makedirs(d, exist_ok=True)
    slow = BertTokenizer.from_pretrained(MINILM)
    fast = BertTokenizerFast.from_pretrained(MINILM)
    enc = fast(SENTENCES, padding=True, truncation=True, max_length=64, return_tensors="pt")
    slow_ids = [slow(s, truncation=True, max_length=64)["input_ids"] for s in SENTENCES]
    fast_ids = [fast(s, truncation=True, max_length=64)["input_ids"] for s in SENTENCES]
    assert slow_ids == fast_ids, "slow and fast HF tokenizers disagree"
    with open(os.path.join(d, "sentences.jsonl"), "w") as f:
        for s, i in zip(SENTENCES, fast_ids):
            f.write(json.dumps({"text": s, "input_ids": i, "tokens": fast.convert_ids_to_tokens(i)},
                               ensure_ascii=False) + "\n")
    base = BertModel.from_pretrained(MINILM).eval()
    with torch.no_grad():
        o = base(**enc)
    m = enc["attention_mask"].unsqueeze(-1).float()
    mean = (o.last_hidden_state * m).sum(1) / m.sum(1)
    mean = torch.nn.functional.normalize(mean, dim=-1)
    save_file({"input_ids": enc["input_ids"].contiguous(), "attention_mask": enc["attention_mask"].contiguous(),
               "token_type_ids": enc["token_type_ids"].contiguous(),
               "last_hidden_state": o.last_hidden_state.contiguous(), "pooler_output": o.pooler_output.contiguous(),
               "mean_pooled_normalized": mean.contiguous()}, os.path.join(d, "encoder.safetensors"))

    # classifier on top, seeded head, dropout off: logits, loss, gradients, AdamW trajectory
    cfg = no_dropout(BertConfig.from_pretrained(MINILM, num_labels=3,
                                                id2label={0: "neg", 1: "neu", 2: "pos"},
                                                label2id={"neg": 0, "neu": 1, "pos": 2}))
    torch.manual_seed(0)
    clf = BertForSequenceClassification.from_pretrained(MINILM, config=cfg)
    torch.nn.init.normal_(clf.classifier.weight, std=0.02)
    torch.nn.init.zeros_(clf.classifier.bias)
    n = 8
    batch = {k: v[:n].contiguous() for k, v in enc.items()}
    batch["labels"] = torch.tensor([2, 0, 1, 1, 1, 2, 0, 1])
    head = {"classifier.weight": clf.classifier.weight.detach().clone().contiguous(),
            "classifier.bias": clf.classifier.bias.detach().clone().contiguous()}
    save_file(head, os.path.join(d, "classifier_head_init.safetensors"))
    meta = train_reference(clf, batch, steps=10, lr=5e-5, path=os.path.join(d, "train_step_full.safetensors"))
    # keep file small: drop word-embedding gradient (30522x384) but keep its row sum check
    from safetensors.torch import load_file
    t = load_file(os.path.join(d, "train_step_full.safetensors"))
    wg = t.pop("grad.bert.embeddings.word_embeddings.weight")
    used = torch.unique(batch["input_ids"])
    t["grad.bert.embeddings.word_embeddings.weight.rows"] = wg[used].contiguous()
    t["grad.bert.embeddings.word_embeddings.weight.row_ids"] = used.contiguous()
    import re  # and keep layers 0 and 5 only: the tiny models cover every parameter
    t = {k: v for k, v in t.items() if not re.search(r"encoder\.layer\.[1-4]\.", k)}
    save_file(t, os.path.join(d, "train_step_full.safetensors"))
    with open(os.path.join(d, "train_step_full.json"), "w") as f:
        json.dump(meta, f, indent=1)

    # LoRA (PEFT) on query/value, r=8, alpha=16, no dropout; lora_B made non-zero so every grad is informative
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    clf2 = BertForSequenceClassification.from_pretrained(MINILM, config=cfg)
    clf2.classifier.weight.data.copy_(head["classifier.weight"])
    clf2.classifier.bias.data.copy_(head["classifier.bias"])
    lcfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["query", "value"],
                      modules_to_save=["classifier"], task_type="SEQ_CLS")
    pm = get_peft_model(clf2, lcfg)
    torch.manual_seed(2)
    for name, p in pm.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.01)
    lora_init = {name: p.detach().clone().contiguous() for name, p in pm.named_parameters() if "lora_" in name}
    save_file(lora_init, os.path.join(d, "lora_init.safetensors"))
    meta = train_reference(pm, batch, steps=10, lr=1e-3, path=os.path.join(d, "train_step_lora.safetensors"),
                           extra={"lora": {"r": 8, "alpha": 16, "targets": ["query", "value"],
                                           "trainable": [n for n, p in pm.named_parameters() if p.requires_grad]}})
    with open(os.path.join(d, "train_step_lora.json"), "w") as f:
        json.dump(meta, f, indent=1)


def versions():
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__}


def write_versions(out, info):
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump(info, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Reference fixtures from Hugging Face transformers (PyTorch).")
    ap.add_argument("--tiny-only", action="store_true", help="write the tiny models only, not minilm/")
    ap.add_argument("minilm_dir", help="Hugging Face directory of all-MiniLM-L6-v2")
    ap.add_argument("out_dir", help="output directory (created)")
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    info = versions()
    tiny_models(a.minilm_dir, a.out_dir)
    if not a.tiny_only:
        minilm(a.minilm_dir, a.out_dir)
    write_versions(a.out_dir, info)
    print("ok", info)


if __name__ == "__main__":
    main()
