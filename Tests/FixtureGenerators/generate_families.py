#!/usr/bin/env python3
"""Tiny XLM-RoBERTa and ELECTRA classifiers with PyTorch reference numbers, in exactly the format
of generate.py's tiny-roberta/ (config.json, model.safetensors, reference.safetensors, reference.json).

Needs: torch, transformers, safetensors (pip); reuses generate.py beside this file (batch, training
reference, dropout-off and saving helpers). CI never runs it: the files it writes are the fixtures.

usage: generate_families.py OUT_DIR
  writes OUT_DIR/tiny-xlm-roberta/, OUT_DIR/tiny-electra/ and OUT_DIR/versions.json

Both models: hidden 32, 2 layers, 4 heads, intermediate 64, vocab 512, 3 labels neg/neu/pos,
dropout 0; the batch is generate.py's seeded 3 x 11 batch (rows 1 and 2 padded after 7 and 4
tokens, labels [0, 2, 1]); one forward/backward for every gradient, then 5 AdamW steps at lr 1e-3
(betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter).

  tiny-xlm-roberta  XLMRobertaForSequenceClassification (model_type "xlm-roberta", weights
                    "roberta.*", head classifier.dense -> tanh -> classifier.out_proj), the
                    tiny-roberta ids (<s> = 0 first, pad id 1), positions from padding_idx + 1,
                    no token_type_ids input (as tiny-roberta; type_vocab_size 1).
  tiny-electra      ElectraForSequenceClassification with embedding_size 16 != hidden_size 32, so
                    electra.embeddings_project (Linear 16 -> 32) exists; hidden_act "gelu",
                    type_vocab_size 2, pad id 0, tiny-bert's ids and token_type_ids (row 0 has
                    type 1 from position 6 on). Head: classifier.dense -> GELU -> classifier.out_proj
                    on the first token; no pooler.

Each model's weights are drawn right after the batch (torch.manual_seed(0), batch, then the model),
as tiny-bert's are in generate.py.
"""
import json, os, sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402  (no side effects on import)

import torch  # noqa: E402
from transformers import (ElectraConfig, ElectraForSequenceClassification,  # noqa: E402
                          XLMRobertaConfig, XLMRobertaForSequenceClassification)

SIZES = dict(vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)


def xlm_roberta():
    ids, mask, labels = g.tiny_batch()
    cfg = g.no_dropout(XLMRobertaConfig(**SIZES, max_position_embeddings=66, type_vocab_size=1,
                                        pad_token_id=1, bos_token_id=0, eos_token_id=2, **g.LABELS))
    model = XLMRobertaForSequenceClassification(cfg)
    batch = {"input_ids": g.roberta_ids(ids, mask), "attention_mask": mask, "labels": labels}
    return "tiny-xlm-roberta", model, batch


def electra():
    ids, mask, labels = g.tiny_batch()
    cfg = g.no_dropout(ElectraConfig(**SIZES, embedding_size=16, max_position_embeddings=64, type_vocab_size=2,
                                     hidden_act="gelu", pad_token_id=0, **g.LABELS))
    model = ElectraForSequenceClassification(cfg)
    assert hasattr(model.electra, "embeddings_project")
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": g.bert_token_types(ids), "labels": labels}
    return "tiny-electra", model, batch


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit(__doc__)
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    info = g.versions()
    index = {}
    for make in (xlm_roberta, electra):
        name, model, batch = make()
        index[name] = g.write_tiny(out, name, model, batch)  # no vocab.txt, as tiny-roberta
    g.write_versions(out, info)
    print("ok", info, {k: v["adamw"]["losses_before_each_step_and_final"] for k, v in index.items()})


if __name__ == "__main__":
    main()
