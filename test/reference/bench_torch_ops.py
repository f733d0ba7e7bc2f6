#!/usr/bin/env python3
"""PyTorch side of the `binding` benchmark: matmul GFLOP/s and the cost of one tiny op call.

Reads {"sizes": [...], "repeats": n, "calls": n, "threads": n} on stdin; writes JSON results.
"""
import json
import sys
import time

import torch


def median_seconds(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def best_seconds(fn, repeats, warmup=2):
    # Peak throughput: OpenBLAS's thread scheduling on a shared 2-core machine makes single runs bimodal.
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    matmul = {}
    for n in req["sizes"]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        matmul[str(n)] = 2 * n**3 / best_seconds(lambda: torch.matmul(a, b), req["repeats"]) / 1e9
    x, y = torch.ones(1), torch.ones(1)
    calls = req["calls"]

    def out_of_place():
        for _ in range(calls):
            torch.add(x, y)

    def in_place():
        for _ in range(calls):
            x.add_(y)

    op_us = {
        "add": median_seconds(out_of_place, 5) / calls * 1e6,
        "add_": median_seconds(in_place, 5) / calls * 1e6,
    }
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "matmul_gflops": matmul, "op_call_us": op_us}, sys.stdout)


if __name__ == "__main__":
    main()
