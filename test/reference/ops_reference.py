#!/usr/bin/env python3
"""Reference values for the tensor binding tests, computed by Debian's PyTorch (python3-torch).

Reads {"cases": [{"op": name, "inputs": [{"data": [...], "shape": [...]}, ...]}]} on stdin and
writes {"results": [{"data": [...], "shape": [...]}, ...]} with every computation in float64.
"""
import json
import sys

import torch
import torch.nn.functional as F

OPS = {
    "matmul": lambda a, b: a @ b,
    "softmax": lambda a: torch.softmax(a, dim=-1),
    "log_softmax": lambda a: torch.log_softmax(a, dim=-1),
    "layer_norm": lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5),
    "gelu": lambda a: F.gelu(a),
    "tanh": torch.tanh,
    "cross_entropy": lambda logits, target: F.cross_entropy(logits, target.long()),
    "masked_fill": lambda a, m: a.masked_fill(m.bool(), -3.5),
    "sum_dim": lambda a: a.sum(dim=1),
    "mean": lambda a: a.mean(),
    "norm": lambda a: torch.linalg.vector_norm(a),
    "addcdiv": lambda a, b, c: a.clone().addcdiv_(b, c, value=0.25),
    "addcmul": lambda a, b, c: a.clone().addcmul_(b, c, value=-0.5),
    "embedding": lambda w, idx: F.embedding(idx.long(), w),
    "linear": lambda x, w, b: F.linear(x, w, b),
    "svd_values": lambda a: torch.linalg.svdvals(a),
}


def main() -> None:
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        inputs = [torch.tensor(i["data"], dtype=torch.float64).reshape(i["shape"]) for i in case["inputs"]]
        out = OPS[case["op"]](*inputs).to(torch.float64)
        results.append({"data": out.flatten().tolist(), "shape": list(out.shape)})
    json.dump({"results": results, "torch": torch.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
