#!/usr/bin/env python3
"""Tokenizer ground truth from Hugging Face tokenizers/transformers. CI never runs it.
usage: generate_tokenizers.py MINILM_DIR DATA_DIR OUT_DIR
  MINILM_DIR  all-MiniLM-L6-v2 directory (the repo's models/all-MiniLM-L6-v2), DATA_DIR  shared/data
Writes OUT_DIR/tokenizer/ (and OUT_DIR/tokenizer/versions.json):
  edge_cases.jsonl                 hard strings: text, ids, tokens for the uncased MiniLM vocabulary
  uncased/<dataset>.<split>.jsonl  every text of DATA_DIR: line number, id count, sha1 of the ids
  uncased/full/<dataset>.<split>.jsonl  full ids for the small evaluation splits
  cased-wordpiece/ vocab.txt, tokenizer_config.json, tokenizer.json + <dataset>.<split>.jsonl (sha1)
  roberta-bpe/ vocab.json, merges.txt, tokenizer.json + <dataset>.<split>.jsonl (sha1) + edge_cases.jsonl
ids are the tokenizer's full output with special tokens and NO truncation; sha1 is over the ids
written as decimal numbers joined by ',' (e.g. "101,7592,102").
"""
import hashlib, json, os, sys
from transformers import BertTokenizerFast, BertTokenizer, RobertaTokenizerFast, RobertaTokenizer
from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer

DATA = None  # set by main(): the folder of <dataset>/<split>.tsv

EDGE = [
    "", " ", "\t\n", "hello", "Hello, World!", "[CLS] literal special tokens [SEP] and [UNK] [MASK]",
    "a" * 99, "b" * 100, "c" * 101, "x" + "y" * 150 + " short",
    "e\u0301 combining acute, A\u030a ring, n\u0303", "Ångström Ærøskøbing Øresund straße",
    "한국어 텍스트 입니다", "ภาษาไทยไม่มีช่องว่าง", "العربية من اليمين", "\u200fRTL mark\u200e LTR mark",
    "family: 👨\u200d👩\u200d👧\u200d👦 flags 🇫🇷🇯🇵 skin 👋🏿", "NUL\u0000char and \ufffd replacement",
    "中文标点：“引号”，（括号）。", "数学 ∀x∈ℝ: x²≥0", "…ellipsis — em dash – en dash",
    "mixed日本語text混在", "ｆｕｌｌｗｉｄｔｈ１２３", "ﬁ ﬂ ligatures", "I'm   spaced\u3000out\u2028line",
    "tab\tseparated\tvalues", "C++ & C# | <html> {json: [1,2]} $5.00 50% #hashtag @user",
    "don't won't shan't o'clock rock'n'roll", "e.g. i.e. U.S.A. Ph.D.", "###", "##suffix", "unaffable",
    "\u00ad\u200b\u2060\ufeff invisible", "ＡＢＣ ａｂｃ", "Ⅻ ⅻ ① ㈱", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙",
]


def sha(ids):
    return hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()


def splits():
    for ds in sorted(os.listdir(DATA)):
        for sp in ("train", "dev", "test"):
            p = os.path.join(DATA, ds, sp + ".tsv")
            if os.path.exists(p):
                lines = open(p, encoding="utf-8").read().split("\n")[1:]
                yield ds, sp, [l.split("\t")[0] for l in lines if l]


def write_hashes(tok, path_dir, full_for=()):
    for ds, sp, texts in splits():
        enc = tok(texts, add_special_tokens=True, truncation=False)["input_ids"]
        with open(os.path.join(path_dir, f"{ds}.{sp}.jsonl"), "w") as f:
            for i, ids in enumerate(enc):
                f.write(json.dumps({"line": i + 2, "n": len(ids), "sha1": sha(ids)}) + "\n")
        if (ds, sp) in full_for:
            with open(os.path.join(path_dir, "full", f"{ds}.{sp}.jsonl"), "w") as f:
                for i, ids in enumerate(enc):
                    f.write(json.dumps({"line": i + 2, "input_ids": ids}) + "\n")


def edge(tok, slow, path):
    with open(path, "w") as f:
        for s in EDGE:
            ids = tok(s, truncation=False)["input_ids"]
            if slow is not None:
                sids = slow(s, truncation=False)["input_ids"]
                if sids != ids:
                    print("slow/fast disagree on", repr(s), file=sys.stderr)
            f.write(json.dumps({"text": s, "input_ids": ids, "tokens": tok.convert_ids_to_tokens(ids)},
                               ensure_ascii=False) + "\n")


class Wrap:  # the call shape write_hashes/edge use
    def __init__(self, t): self.t = t
    def __call__(self, x, add_special_tokens=True, truncation=False):
        if isinstance(x, str):
            return {"input_ids": self.t.encode(x).ids}
        return {"input_ids": [e.ids for e in self.t.encode_batch(x)]}
    def convert_ids_to_tokens(self, ids): return [self.t.id_to_token(i) for i in ids]


def main(argv=None):
    global DATA
    MINILM, DATA, OUT = (argv if argv is not None else sys.argv[1:])[:3]
    T = os.path.join(OUT, "tokenizer")
    os.makedirs(os.path.join(T, "uncased", "full"), exist_ok=True)

    # 1. uncased WordPiece of the real model
    fast = BertTokenizerFast.from_pretrained(MINILM)
    edge(fast, BertTokenizer.from_pretrained(MINILM), os.path.join(T, "edge_cases.jsonl"))
    write_hashes(fast, os.path.join(T, "uncased"), full_for={("hate-speech", "test"), ("sst2", "dev")})

    # corpus for the trained vocabularies: mixed-case texts (SST-2 is all lower case)
    corpus = [t for ds, sp, texts in splits() if sp == "train" and ds in ("imdb", "hate-speech") for t in texts]

    # 2. cased WordPiece, accents kept
    d = os.path.join(T, "cased-wordpiece"); os.makedirs(os.path.join(d, "full"), exist_ok=True)
    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False, clean_text=True, handle_chinese_chars=True)
    wp.train_from_iterator(corpus, vocab_size=8000, min_frequency=2)
    wp.save_model(d)
    wp = BertWordPieceTokenizer(os.path.join(d, "vocab.txt"), lowercase=False, strip_accents=False,
                                clean_text=True, handle_chinese_chars=True)
    wp.save(os.path.join(d, "tokenizer.json"))
    json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": False, "strip_accents": False,
               "tokenize_chinese_chars": True, "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
               "cls_token": "[CLS]", "mask_token": "[MASK]"}, open(os.path.join(d, "tokenizer_config.json"), "w"), indent=1)
    cased = BertTokenizerFast.from_pretrained(d)
    assert cased.tokenize("Hello Ångström") == [t for t in wp.encode("Hello Ångström").tokens if t not in ("[CLS]", "[SEP]")]
    edge(cased, BertTokenizer.from_pretrained(d), os.path.join(d, "edge_cases.jsonl"))
    write_hashes(cased, d)

    # 3. byte-level BPE as RoBERTa uses it: <s> X </s>, ids as in vocab.json
    from tokenizers.processors import RobertaProcessing
    d = os.path.join(T, "roberta-bpe"); os.makedirs(os.path.join(d, "full"), exist_ok=True)
    SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(corpus, vocab_size=8000, min_frequency=2, special_tokens=SPECIAL)
    bpe.save_model(d)
    bpe = ByteLevelBPETokenizer(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"), add_prefix_space=False, trim_offsets=True)
    bpe.add_special_tokens(SPECIAL)
    bpe.post_processor = RobertaProcessing(("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False)
    assert [bpe.token_to_id(t) for t in SPECIAL] == [0, 1, 2, 3, 4]
    bpe.save(os.path.join(d, "tokenizer.json"))
    json.dump({"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False, "bos_token": "<s>", "eos_token": "</s>",
               "cls_token": "<s>", "sep_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>"},
              open(os.path.join(d, "tokenizer_config.json"), "w"), indent=1)

    edge(Wrap(bpe), None, os.path.join(d, "edge_cases.jsonl"))
    write_hashes(Wrap(bpe), d)
    import tokenizers, transformers
    info = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__}
    with open(os.path.join(T, "versions.json"), "w") as f:
        json.dump(info, f, indent=1)
    print("ok", info)


if __name__ == "__main__":
    main()
