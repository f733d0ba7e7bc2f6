#!/usr/bin/env python3
"""PyTorch side of the `forward` benchmark: the same RoBERTa classifier math in plain torch.

Request: {"configs": [{"name", "repeats", "vocab", "hidden", "layers", "heads", "ffn", "positions", "labels"}],
          "batch": int, "seq": int, "threads": int}
Reply: {"name": median seconds per forward (eval, no grad)}.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

from bench_torch_ops import median_seconds  # the script's folder is on sys.path


def model(c, g):
    def w(*shape):
        return torch.randn(*shape, generator=g) * 0.02
    h, f = c["hidden"], c["ffn"]
    layers = [dict(q=w(h, h), qb=torch.zeros(h), k=w(h, h), kb=torch.zeros(h), v=w(h, h), vb=torch.zeros(h),
                   o=w(h, h), ob=torch.zeros(h), ln1=(torch.ones(h), torch.zeros(h)),
                   i=w(f, h), ib=torch.zeros(f), d=w(h, f), db=torch.zeros(h), ln2=(torch.ones(h), torch.zeros(h)))
              for _ in range(c["layers"])]
    return dict(word=w(c["vocab"], h), pos=w(c["positions"], h), type=w(1, h), ln=(torch.ones(h), torch.zeros(h)),
                layers=layers, cd=w(h, h), cdb=torch.zeros(h), out=w(c["labels"], h), outb=torch.zeros(c["labels"]))


def forward(m, c, ids, mask):
    b, t = ids.shape
    h, heads = c["hidden"], c["heads"]
    d = h // heads
    nonpad = ids.ne(1).long()
    positions = nonpad.cumsum(1) * nonpad + 1
    x = F.embedding(ids, m["word"]) + F.embedding(positions, m["pos"]) + m["type"][0]
    x = F.layer_norm(x, (h,), *m["ln"], 1e-5)
    additive = ((1.0 - mask.float()) * torch.finfo(torch.float32).min).view(b, 1, 1, t)
    for l in m["layers"]:
        q = F.linear(x, l["q"], l["qb"]).view(b, t, heads, d).transpose(1, 2)
        k = F.linear(x, l["k"], l["kb"]).view(b, t, heads, d).transpose(1, 2)
        v = F.linear(x, l["v"], l["vb"]).view(b, t, heads, d).transpose(1, 2)
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, -1)
        ctx = (p @ v).transpose(1, 2).reshape(b, t, h)
        x = F.layer_norm(F.linear(ctx, l["o"], l["ob"]) + x, (h,), *l["ln1"], 1e-5)
        x = F.layer_norm(F.linear(F.gelu(F.linear(x, l["i"], l["ib"])), l["d"], l["db"]) + x, (h,), *l["ln2"], 1e-5)
    first = torch.tanh(F.linear(x[:, 0], m["cd"], m["cdb"]))
    return F.linear(first, m["out"], m["outb"])


def main():
    r = json.load(sys.stdin)
    torch.set_num_threads(r["threads"])
    g = torch.Generator().manual_seed(0)
    result = {}
    for c in r["configs"]:
        m = model(c, g)
        ids = torch.randint(3, c["vocab"], (r["batch"], r["seq"]), generator=g)
        mask = torch.ones(r["batch"], r["seq"], dtype=torch.long)
        with torch.no_grad():
            result[c["name"]] = median_seconds(lambda: forward(m, c, ids, mask), c["repeats"])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
