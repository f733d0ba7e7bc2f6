"""Runs ../shared/gpu-kit/pytorch-anchor.py and adds each run's peak of reserved memory beside its peak allocated.

Our GPU memory figure comes from NVML (what libtorch's caching allocator holds, as TorchSharp 0.107 has no memory
statistics), so the like-for-like PyTorch figure is torch.cuda.max_memory_reserved; the anchor reports
max_memory_allocated. usage: python3 anchor.py pytorch-anchor.py OUT.json [anchor arguments...]
"""
import json
import runpy
import sys

import torch

anchor, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
reserved = []
max_allocated = torch.cuda.max_memory_allocated


def allocated_and_reserved(*args, **kwargs):
    reserved.append(torch.cuda.max_memory_reserved() / 2 ** 20)  # the anchor asks once per run, right after it
    return max_allocated(*args, **kwargs)


torch.cuda.max_memory_allocated = allocated_and_reserved
sys.argv = [anchor, "--out", out] + rest
results = runpy.run_path(anchor, run_name="__main__")["results"]
for row, mb in zip([r for r in results["runs"] if "peak_mem_mb" in r], reserved):
    row["peak_reserved_mb"] = mb
with open(out, "w") as f:
    json.dump(results, f, indent=1)
