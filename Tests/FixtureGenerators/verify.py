#!/usr/bin/env python3
"""Checks tiny-* fixture directories against Hugging Face transformers: reloads each with
AutoModelForSequenceClassification.from_pretrained, recomputes logits, loss and every gradient on the
stored inputs, and compares them with reference.safetensors; also checks that the file has a
gradient for every parameter and the after_adamw.* tensors generate.py keeps.

usage: verify.py FIXTURE_DIR [FIXTURE_DIR ...]     e.g. Tests/BertCoreTests/Fixtures/tiny-electra
Exits 1 if logits or loss differ by more than 1e-5, or a gradient by more than 1e-4 of its
tensor's max |value| (README.md's tolerances). Gradients that are zero in exact arithmetic (the
attention key biases: softmax ignores a shift shared by every key) hold float rounding noise
(|g| < 1e-10); they are checked absolutely (<= 1e-10), not relatively.

It also recomputes the gradients in float64 and prints how far torch's float32 reference is from
them (relative to each tensor's max |value|): an independent float32 implementation can differ
from the reference by about that much plus its own error. Informational, never a failure.
"""
import json, os, sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

torch.set_num_threads(2)


def check(d):
    ok = True
    ref = load_file(os.path.join(d, "reference.safetensors"))
    weights = load_file(os.path.join(d, "model.safetensors"))
    meta = json.load(open(os.path.join(d, "reference.json")))
    model = AutoModelForSequenceClassification.from_pretrained(d)
    model.train()  # as generate.py: dropout is 0, so train and eval agree
    inputs = {k[len("input."):]: v for k, v in ref.items() if k.startswith("input.")}
    out = model(**inputs)
    out.loss.backward()
    dl = (out.logits.detach() - ref["output.logits"]).abs().max().item()
    dloss = abs(out.loss.item() - ref["output.loss"].item())
    print(f"{d}: {type(model).__name__}, model_type {model.config.model_type}, inputs {sorted(inputs)}")
    print(f"  logits max|d| {dl:.3g}   loss |d| {dloss:.3g}   (loss {out.loss.item():.7f})")
    ok &= dl <= 1e-5 and dloss <= 1e-5
    params = dict(model.named_parameters())
    missing = [n for n in params if "grad." + n not in ref]
    extra = [k for k in ref if k.startswith("grad.") and k[5:] not in params]
    worst, worst_name, noise, noise_diff = 0.0, None, [], 0.0
    for n, p in params.items():
        if "grad." + n in ref:
            scale = ref["grad." + n].abs().max().item()
            diff = (p.grad - ref["grad." + n]).abs().max().item()
            if scale < 1e-10:
                noise.append(n)
                noise_diff = max(noise_diff, diff)
            elif diff / scale > worst:
                worst, worst_name = diff / scale, n
    print(f"  gradients: {len(params)} parameters, missing {missing}, extra {extra}, "
          f"max relative |d| {worst:.3g} ({worst_name})")
    print(f"  rounding-noise gradients (|g| < 1e-10): {noise}, max |d| {noise_diff:.3g}")
    ok &= not missing and not extra and worst <= 1e-4 and noise_diff <= 1e-10
    m64 = AutoModelForSequenceClassification.from_pretrained(d).double()
    m64.train()
    m64(**inputs).loss.backward()
    rows = sorted(((p.grad - ref["grad." + n].double()).abs().max().item() / ref["grad." + n].abs().max().item(), n)
                  for n, p in m64.named_parameters() if n not in noise)
    print(f"  float32 reference vs float64: worst relative |d| {rows[-1][0]:.2g} ({rows[-1][1]}), "
          f"{sum(r > 1e-4 for r, _ in rows)} gradient(s) over 1e-4")
    want = {"after_adamw." + n for n in params
            if "classifier" in n or "pooler" in n or n.endswith("LayerNorm.weight")}
    have = {k for k in ref if k.startswith("after_adamw.")}
    print(f"  after_adamw: {len(have)} tensors, as generate.py keeps: {have == want}")
    ok &= have == want
    state = {k: v for k, v in model.state_dict().items()}
    same_weights = set(weights) <= set(state) and all(torch.equal(weights[k], state[k]) for k in weights)
    print(f"  model.safetensors: {len(weights)} tensors, loaded unchanged: {same_weights}, "
          f"parameters not in the file: {[n for n in params if n not in weights]}")
    ok &= same_weights
    losses = meta["adamw"]["losses_before_each_step_and_final"]
    print(f"  reference.json: {len(losses)} losses, first {losses[0]:.7f} (= output.loss: "
          f"{abs(losses[0] - ref['output.loss'].item()) <= 1e-6})")
    return ok


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [check(d) for d in sys.argv[1:]]
    print("all ok" if all(results) else "MISMATCH")
    sys.exit(0 if all(results) else 1)
