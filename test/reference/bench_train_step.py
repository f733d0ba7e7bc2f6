#!/usr/bin/env python3
"""PyTorch side of the `train-step` benchmark: one AdamW training step of the RoBERTa classifier math.

Forward as in bench_forward.py (no dropout), cross-entropy, backward, torch.optim.AdamW (its CPU default).
Request: {"configs": [as bench_forward.py], "batch": int, "seq": int, "threads": int}
Reply: {"name": median seconds per step}.
"""
import json
import sys

import torch
import torch.nn.functional as F

from bench_forward import forward, model  # the script's folder is on sys.path
from bench_torch_ops import median_seconds


def leaves(m):
    for value in m.values():
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, tuple):
            yield from value
        elif isinstance(value, list):
            for layer in value:
                yield from leaves(layer)


def main():
    r = json.load(sys.stdin)
    torch.set_num_threads(r["threads"])
    g = torch.Generator().manual_seed(0)
    result = {}
    for c in r["configs"]:
        m = model(c, g)
        params = list(leaves(m))
        for p in params:
            p.requires_grad_()
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
        ids = torch.randint(3, c["vocab"], (r["batch"], r["seq"]), generator=g)
        mask = torch.ones(r["batch"], r["seq"], dtype=torch.long)
        labels = torch.randint(0, c["labels"], (r["batch"],), generator=g)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(m, c, ids, mask), labels)
            loss.backward()
            opt.step()

        result[c["name"]] = median_seconds(step, c["repeats"])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
