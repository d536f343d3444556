#!/usr/bin/env python3
"""Makes the two MiniLM fixtures that are subsets of the shared reference (generate.py's minilm/).

usage: extract.py SHARED_FIXTURES_DIR [TESTS_DIR]
  SHARED_FIXTURES_DIR  the folder with minilm/train_step_full.safetensors (shared/fixtures, or
                       the OUT_DIR of generate.py)
  TESTS_DIR            where to write; default: the repo's Tests/ (the parent of this script's folder)
writes TESTS_DIR/BertTrainingTests/Fixtures/minilm/train_step_full_subset.safetensors
   and TESTS_DIR/BertCoreTests/Fixtures/minilm/head_logits.safetensors

head_logits.safetensors: input.input_ids, input.attention_mask, input.token_type_ids and
output.logits of train_step_full.safetensors (the 8 sentences with the seeded classifier head).

train_step_full.safetensors (16 MB, made by shared/fixtures/generate.py) holds every gradient of
the embeddings, layers 0 and 5, pooler and classifier. The tests need far less to show that every
op's backward is right (the tiny models check every parameter), so this keeps, in
minilm/train_step_full_subset.safetensors:
  - input.*, output.* and the small after_adamw.* tensors (LayerNorm weights, classifier, biases);
  - the gradients of the classifier, the pooler, every tensor of layer 5 (attention weights whole;
    intermediate.dense.weight and output.dense.weight as their leading rows), every bias and
    LayerNorm of layer 0 and its query weight (the bottom of the backward), the embeddings'
    LayerNorm and token types, the position rows the batch uses, and the used word rows
    (already stored as .rows + .row_ids).
A gradient stored with fewer rows than its parameter holds that parameter's leading rows.
Standard library only (struct + json), so it runs anywhere the fixtures are regenerated.
"""
import json, os, struct, sys

SOURCE = os.path.join(sys.argv[1], "minilm", "train_step_full.safetensors") if len(sys.argv) > 1 else None
TESTS = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(TESTS, "BertTrainingTests", "Fixtures", "minilm", "train_step_full_subset.safetensors")
HEAD_OUT = os.path.join(TESTS, "BertCoreTests", "Fixtures", "minilm", "head_logits.safetensors")
HEAD_KEYS = ["input.input_ids", "input.attention_mask", "input.token_type_ids", "output.logits"]

ROW_LIMITS = {  # name -> leading rows kept
    "grad.bert.encoder.layer.5.intermediate.dense.weight": 256,
    "grad.bert.encoder.layer.5.output.dense.weight": 64,
    "grad.bert.embeddings.position_embeddings.weight": 56,  # the batch is 56 wide: positions 0..55
}
DTYPE_SIZE = {"F32": 4, "I64": 8}


def keep(name, shape):
    if name.startswith(("input.", "output.")) or name in ROW_LIMITS:
        return True
    if name.startswith("after_adamw."):
        return len(shape) == 1 or shape[0] <= 16  # vectors and the classifier
    if not name.startswith("grad."):
        return False
    n = name[len("grad."):]
    if n.startswith(("classifier.", "bert.pooler.", "bert.encoder.layer.5.", "bert.embeddings.LayerNorm.",
                     "bert.embeddings.token_type_embeddings.", "bert.embeddings.word_embeddings.weight.")):
        return True
    if n.startswith("bert.encoder.layer.0."):
        return n.endswith(".bias") or "LayerNorm" in n or n == "bert.encoder.layer.0.attention.self.query.weight"
    return False


def read(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    return header, data


def write(path, header, blobs, **dumps):
    text = json.dumps(header, **dumps).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def head_logits(header, data):
    out_header, blobs, offset = {}, [], 0
    for name in HEAD_KEYS:
        info = header[name]
        begin, end = info["data_offsets"]
        out_header[name] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [offset, offset + end - begin]}
        blobs.append(data[begin:end])
        offset += end - begin
    out_header["__metadata__"] = {"source": "fixtures/minilm/train_step_full.safetensors (inputs and logits only)"}
    write(HEAD_OUT, out_header, blobs)  # json.dumps' default separators, as the committed file
    print(f"{HEAD_OUT}: {len(HEAD_KEYS)} tensors")


def main():
    if SOURCE is None:
        sys.exit(__doc__)
    header, data = read(SOURCE)
    out_header, blobs, offset = {}, [], 0
    for name in sorted(k for k in header if k != "__metadata__"):
        info = header[name]
        shape = list(info["shape"])
        if not keep(name, shape):
            continue
        begin, end = info["data_offsets"]
        blob = data[begin:end]
        if name in ROW_LIMITS:
            rows = ROW_LIMITS[name]
            row_bytes = (end - begin) // shape[0]
            blob, shape = blob[: rows * row_bytes], [rows] + shape[1:]
        out_header[name] = {"dtype": info["dtype"], "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    out_header["__metadata__"] = {"source": "shared/fixtures/minilm/train_step_full.safetensors", "made_by": "extract.py"}
    write(OUT, out_header, blobs, separators=(",", ":"))
    print(f"{OUT}: {len(out_header) - 1} tensors, {offset / 1e6:.1f} MB")
    head_logits(header, data)


if __name__ == "__main__":
    main()
