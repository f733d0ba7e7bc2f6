#!/usr/bin/env python3
"""torch.optim.AdamW on a least-squares problem, for the AdamW equivalence test.

Request: {"w": [...], "shape": [m, n], "b": [...], "x": [...], "x_shape": [k, n], "y": [...],
          "lr": float, "betas": [b1, b2], "eps": float, "weight_decay": float, "steps": int}
Reply:   {"w": [...], "b": [...]} after the steps; loss = mean((x Wᵀ + b − y)²), float32.
"""
import json
import sys

import torch


def main():
    r = json.load(sys.stdin)
    w = torch.tensor(r["w"], dtype=torch.float32).reshape(r["shape"]).requires_grad_()
    b = torch.tensor(r["b"], dtype=torch.float32).requires_grad_()
    x = torch.tensor(r["x"], dtype=torch.float32).reshape(r["x_shape"])
    y = torch.tensor(r["y"], dtype=torch.float32).reshape(r["x_shape"][0], r["shape"][0])
    opt = torch.optim.AdamW([w, b], lr=r["lr"], betas=tuple(r["betas"]), eps=r["eps"], weight_decay=r["weight_decay"])
    for _ in range(r["steps"]):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    json.dump({"w": w.detach().flatten().tolist(), "b": b.detach().tolist(), "torch": torch.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
