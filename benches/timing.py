"""Timing shared by the PyTorch baselines: a warm-up call, then the median
of several runs, each ending in a device sync."""
import statistics
import time

import torch


def median_seconds(fn, runs=20):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
