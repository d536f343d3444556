#!/usr/bin/env python3
"""Overflowing windows ground truth from Hugging Face tokenizers. CI never runs it.
usage: generate_windows.py MINILM_DIR OUT_DIR   (OUT_DIR: Tests/BertTokenizersTests/Fixtures/windows)
For synthetic long texts, the windows of
  tokenizer(text, [pair,] truncation=True|"only_first", max_length=L, stride=S,
            return_overflowing_tokens=True, return_offsets_mapping=True)
with the uncased MiniLM tokenizer and the fixture RoBERTa BPE tokenizer: one JSON line per
(tokenizer, text, pair, L, S) with every window's input_ids, token_type_ids and offsets.
"""
import json, os, random, sys
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ("the film was unexpectedly moving and the actors never once lost the thread of a story that "
         "could easily have collapsed under its own ambitions ; café naïve straße ångström 東京 "
         "unaffable overthinking 1999 dollars , a plot twist ! and yet the ending felt rushed .").split()


def texts():
    rng = random.Random(7)
    out = ["short text that fits", "", "one two three four five six seven eight nine ten eleven"]
    for n in (40, 97, 250, 600):
        out.append(" ".join(rng.choice(WORDS) for _ in range(n)))
    return out


def main(minilm, out_dir):
    tokenizers = {
        "uncased": AutoTokenizer.from_pretrained(minilm),
        "roberta-bpe": AutoTokenizer.from_pretrained(os.path.join(HERE, "..", "BertTokenizersTests", "Fixtures", "roberta-bpe")),
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "windows.jsonl"), "w") as f:
        for name, tok in tokenizers.items():
            for text in texts():
                for L, S in ((16, 4), (32, 8), (32, 0), (64, 16), (128, 32), (512, 128)):
                    if len(text) > 1000 and L < 64:
                        continue  # keeps the fixture small: long texts with wide windows only
                    for pair in (None, "is it good ?"):
                        kw = dict(truncation="only_first" if pair else True, max_length=L, stride=S,
                                  return_overflowing_tokens=True, return_offsets_mapping=True)
                        try:
                            enc = tok(text, pair, **kw) if pair else tok(text, **kw)
                        except Exception as e:  # the pair leaves no room: bertd refuses too
                            f.write(json.dumps({"tokenizer": name, "text": text, "pair": pair, "max_length": L,
                                                "stride": S, "error": str(e)[:80]}) + "\n")
                            continue
                        windows = [{"input_ids": ids, "token_type_ids": enc.get("token_type_ids", [[0] * len(ids)] * len(enc["input_ids"]))[k],
                                    "offsets": [list(o) for o in enc["offset_mapping"][k]]}
                                   for k, ids in enumerate(enc["input_ids"])]
                        f.write(json.dumps({"tokenizer": name, "text": text, "pair": pair, "max_length": L,
                                            "stride": S, "windows": windows}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
