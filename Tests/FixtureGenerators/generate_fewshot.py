#!/usr/bin/env python3
"""Reference numbers for few-shot (SetFit) body training on the committed tiny-bert, from Hugging
Face transformers on PyTorch in float64: sentence-transformers' CosineSimilarityLoss on the
mean-pooled, L2-normalised embeddings (the modules Transformer -> Pooling(mean) -> Normalize).

Needs: torch, transformers, safetensors (pip). Reuses generate.py beside this file (the seeded
batch, dropout off, versions). CI never runs it: the files it writes are the fixtures.

usage: generate_fewshot.py FIXTURES OUT_DIR
  FIXTURES  Tests/BertTrainingTests/Fixtures (read: tiny-bert/{config.json,model.safetensors,
            reference.safetensors})
  OUT_DIR   written: OUT_DIR/fewshot/contrastive.safetensors and OUT_DIR/fewshot/fewshot.json

The case: tiny-bert's encoder (BertModel; its classifier and pooler unused), dropout 0, eager
attention, model.double(), train mode. The three sequences of tiny-bert/reference.safetensors
without their padding (11, 7 and 4 tokens) make a batch of 4 sequences [s0, s1, s2, s0]: pair 0 is
(s0, s1) with target 1, pair 1 is (s2, s0) with target 0 (s0 is in both, so its gradient adds up).
Each sequence runs alone (no padding at all), its last hidden states are averaged over its
tokens and normalised (F.normalize), the pair's cosine is F.cosine_similarity, and the loss is
MSELoss(cosines, targets) (mean over the 2 pairs). Written: input.ids / input.token_type_ids (the 4
sequences concatenated, int64), input.lengths, input.targets, output.cosines, output.loss,
output.embeddings (4, 32), and grad.bert.<name> for every encoder parameter that gets a gradient
(the pooler gets none). The loss is also recomputed as the written-out dot-product formula.

Importing this module has no side effects.
"""
import argparse, json, os, sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import BertConfig, BertModel  # noqa: E402

ORDER = [0, 1, 2, 0]
TARGETS = [1.0, 0.0]


def sequences(fixtures):
    """The reference batch's rows without padding: [(ids, token_type_ids)]."""
    ref = load_file(os.path.join(fixtures, "tiny-bert", "reference.safetensors"))
    ids, mask, types = ref["input.input_ids"], ref["input.attention_mask"], ref["input.token_type_ids"]
    out = []
    for r in range(ids.shape[0]):
        n = int(mask[r].sum())
        out.append((ids[r, :n].clone(), types[r, :n].clone()))
    assert [len(s[0]) for s in out] == [11, 7, 4]
    return out


def generate(fixtures, out_dir):
    d = os.path.join(fixtures, "tiny-bert")
    cfg = g.no_dropout(BertConfig.from_pretrained(d))
    model = BertModel.from_pretrained(d, config=cfg, attn_implementation="eager").double().train()
    seqs = sequences(fixtures)
    units = []
    for k in ORDER:
        ids, types = seqs[k]
        hidden = model(input_ids=ids[None], token_type_ids=types[None]).last_hidden_state[0]
        units.append(F.normalize(hidden.mean(dim=0), p=2, dim=0))
    u = torch.stack(units)
    cos = torch.stack([F.cosine_similarity(u[2 * p], u[2 * p + 1], dim=0) for p in range(len(TARGETS))])
    targets = torch.tensor(TARGETS, dtype=torch.float64)
    loss = torch.nn.MSELoss()(cos, targets)
    formula = ((torch.stack([(u[2 * p] * u[2 * p + 1]).sum() for p in range(len(TARGETS))]) - targets) ** 2).mean()
    assert abs(loss.item() - formula.item()) < 1e-12, (loss.item(), formula.item())
    loss.backward()
    t = {
        "input.ids": torch.cat([seqs[k][0] for k in ORDER]).long().contiguous(),
        "input.token_type_ids": torch.cat([seqs[k][1] for k in ORDER]).long().contiguous(),
        "input.lengths": torch.tensor([len(seqs[k][0]) for k in ORDER], dtype=torch.long),
        "input.targets": targets.float(),
        "output.cosines": cos.detach().float().contiguous(),
        "output.loss": loss.detach().float().reshape(1),
        "output.embeddings": u.detach().float().contiguous(),
    }
    without_grad = []
    for name, p in model.named_parameters():
        if p.grad is None:
            without_grad.append(name)
            continue
        t["grad.bert." + name] = p.grad.detach().float().contiguous()
    assert all(n.startswith("pooler.") for n in without_grad), without_grad
    od = os.path.join(out_dir, "fewshot")
    os.makedirs(od, exist_ok=True)
    save_file(t, os.path.join(od, "contrastive.safetensors"))
    meta = dict(case="contrastive", order=ORDER, targets=TARGETS, loss=loss.item(), cosines=cos.tolist(),
                parameters_without_gradient=without_grad, versions=g.versions())
    with open(os.path.join(od, "fewshot.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"contrastive: loss {loss.item():.10f}, cosines {[round(c, 6) for c in cos.tolist()]}, "
          f"{sum(1 for k in t if k.startswith('grad.'))} gradients")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Few-shot (SetFit) contrastive-loss reference on tiny-bert (float64).")
    ap.add_argument("fixtures")
    ap.add_argument("out_dir")
    a = ap.parse_args(argv)
    generate(a.fixtures, a.out_dir)


if __name__ == "__main__":
    main()
