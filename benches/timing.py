"""Timing shared by the PyTorch baselines: a warm-up call, then the median
of several runs, each ending in a device sync (on the GPU; on the CPU,
where there is no CUDA, each run ends when the call returns)."""
import statistics
import time

import torch


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_seconds(fn, runs=20):
    fn()
    sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
