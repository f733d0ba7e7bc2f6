#!/usr/bin/env python3
"""The weighted cross-entropy of the training loss, computed by PyTorch from the engine's logits, for WeightedLossTests.

Class weights alone: torch.nn.CrossEntropyLoss(weight=class_weights) with reduction 'mean', i.e. sum_i w[y_i]*l_i / sum_i w[y_i].
Example weights (alone or times class weights): PyTorch has no per-example weight in CrossEntropyLoss, so the same
normalization is written out: sum_i w_i*l_i / sum_i w_i with l_i from reduction 'none'. Each case is computed on the
first `rows` rows (a probe's part of the batch). float64 throughout.
Request: {"logits": [...], "classes": k, "labels": [...], "cases": [{"class_weights": [...] | null,
          "example_weights": [...] | null, "rows": n}]}
Reply:   {"losses": [...], "torch": version}
"""
import json
import sys

import torch


def main():
    r = json.load(sys.stdin)
    logits = torch.tensor(r["logits"], dtype=torch.float64).reshape(-1, r["classes"])
    labels = torch.tensor(r["labels"], dtype=torch.int64)
    losses = []
    for case in r["cases"]:
        n = case["rows"]
        x, y = logits[:n], labels[:n]
        cw = case["class_weights"]
        ew = case["example_weights"]
        if ew is None:
            weight = None if cw is None else torch.tensor(cw, dtype=torch.float64)
            loss = torch.nn.CrossEntropyLoss(weight=weight, reduction="mean")(x, y)
        else:
            w = torch.tensor(ew, dtype=torch.float64)[:n]
            per_row = torch.nn.CrossEntropyLoss(weight=None if cw is None else torch.tensor(cw, dtype=torch.float64), reduction="none")(x, y)
            if cw is not None:
                w = w * torch.tensor(cw, dtype=torch.float64)[y]
            loss = (per_row * torch.tensor(ew, dtype=torch.float64)[:n]).sum() / w.sum()
        losses.append(loss.item())
    json.dump({"losses": losses, "torch": torch.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
