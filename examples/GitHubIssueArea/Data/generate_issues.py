#!/usr/bin/env python3
"""Writes issues.tsv: GitHub-style issues (ID, Area, Title, Description) for a fictional ML library.

Generated for this project (no third-party text). Four areas share many words, so the title and the
description are both needed; one title in six points to another area and 4 % of areas are mislabelled. Deterministic: `python3 generate_issues.py > issues.tsv`.
"""
import random

rng = random.Random(7)
areas = {
    "area-training": (["trainer", "optimizer", "learning rate", "epoch", "loss", "gradient", "checkpoint"],
                      ["diverges", "is NaN after a few steps", "does not decrease", "resumes from the wrong step", "is slower than expected"]),
    "area-data": (["TextLoader", "csv file", "column", "schema", "separator", "header row", "IDataView"],
                  ["fails to parse", "drops rows", "has the wrong type", "ignores quotes", "reads empty values as zero"]),
    "area-onnx": (["ONNX export", "opset", "onnxruntime", "exported model", "float16 weights", "graph"],
                  ["gives different outputs", "fails in the checker", "is missing an input", "cannot be loaded", "has a wrong shape"]),
    "area-docs": (["README", "sample", "API reference", "tutorial", "doc comment", "getting started page"],
                  ["has a broken link", "is out of date", "has a typo", "does not compile", "is missing an example"]),
}
shared = ["when I run it on linux", "with the latest version", "after upgrading", "on a large data set", "in release mode", "on my laptop"]

print("ID\tArea\tTitle\tDescription")
for i in range(1000):
    area = list(areas)[i % len(areas)]
    things, problems = areas[area]
    other = areas[rng.choice([a for a in areas if a != area])][0]
    # One issue in six has a title about another area's component; the description tells the real area.
    thing = rng.choice(things if rng.random() >= 1 / 6 else other)
    title = f"{thing[0].upper()}{thing[1:]} {rng.choice(problems)}"
    description = (f"The {rng.choice(things)} {rng.choice(problems)} {rng.choice(shared)}. "
                   f"It also mentions the {rng.choice(other)} but that part works. Steps: {rng.randint(1, 9)}.")
    label = area if rng.random() >= 0.04 else rng.choice(list(areas))  # 4 % mislabelled, as triage is
    print(f"{1000 + i}\t{label}\t{title}\t{description}")
