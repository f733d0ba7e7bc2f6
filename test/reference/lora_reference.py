#!/usr/bin/env python3
"""LoRA trained by torch.optim.AdamW on a least-squares problem, for the LoRA equivalence test.

The frozen weight W (m×n) gets the side branch scale·B·A (B m×r, A r×n) as in Hu et al. (2021) and PEFT;
AdamW trains A, B and the bias. A and B start from the values in the request (the test's own draw).
Request: {"w": [...], "shape": [m, n], "b": [...], "a": [...], "rank": r, "scale": float,
          "x": [...], "x_shape": [k, n], "y": [...], "lr": float, "betas": [b1, b2], "eps": float,
          "weight_decay": float, "steps": int}
Reply:   {"w": [...] (W + scale·B·A after the steps), "b": [...], "frozen": [...] (W itself), "loss0": float}
"""
import json
import sys

import torch


def main():
    r = json.load(sys.stdin)
    m, n = r["shape"]
    rank = r["rank"]
    w = torch.tensor(r["w"], dtype=torch.float32).reshape(m, n)
    b = torch.tensor(r["b"], dtype=torch.float32).requires_grad_()
    lora_a = torch.tensor(r["a"], dtype=torch.float32).reshape(rank, n).requires_grad_()
    lora_b = torch.zeros(m, rank, dtype=torch.float32, requires_grad=True)
    x = torch.tensor(r["x"], dtype=torch.float32).reshape(r["x_shape"])
    y = torch.tensor(r["y"], dtype=torch.float32).reshape(r["x_shape"][0], m)
    scale = r["scale"]
    opt = torch.optim.AdamW([b, lora_a, lora_b], lr=r["lr"], betas=tuple(r["betas"]), eps=r["eps"], weight_decay=r["weight_decay"])
    loss0 = None
    for _ in range(r["steps"]):
        opt.zero_grad()
        out = x @ w.T + b + scale * (x @ lora_a.T) @ lora_b.T
        loss = ((out - y) ** 2).mean()
        if loss0 is None:
            loss0 = loss.item()
        loss.backward()
        opt.step()
    folded = w + scale * lora_b.detach() @ lora_a.detach()
    json.dump({"w": folded.flatten().tolist(), "b": b.detach().tolist(), "frozen": w.flatten().tolist(),
               "loss0": loss0, "torch": torch.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
