#!/usr/bin/env python3
"""Makes the MiniLM training fixture of BertTrainingTests from the shared reference.

usage: extract.py SHARED_FIXTURES_DIR   (the folder with minilm/train_step_full.safetensors)

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

SOURCE = os.path.join(sys.argv[1], "minilm", "train_step_full.safetensors")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm", "train_step_full_subset.safetensors")

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


def main():
    with open(SOURCE, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
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
    text = json.dumps(out_header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    print(f"{OUT}: {len(out_header) - 1} tensors, {offset / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
