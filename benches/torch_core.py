"""PyTorch baseline for benches/core.rs on the same GPU: elementwise add,
sums (all, last axis) and matmul over the same sizes, timed the same way
(warm-up, then the median of several runs, each ending in a device sync).

    python3 benches/torch_core.py
"""
import torch

from timing import median_seconds


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cuda"
    print(f"device: {torch.cuda.get_device_name()}")
    for n in (1 << 16, 1 << 20, 1 << 24):
        a = torch.rand(n, device=dev)
        b = torch.rand(n, device=dev)
        s = median_seconds(lambda: a + b)
        print(f"add_f32/{n}: {s * 1e3:.4f} ms, {12 * n / s / 1e9:.1f} GB/s")
        s = median_seconds(lambda: a.sum())
        print(f"sum_f32/all/{n}: {s * 1e3:.4f} ms, {4 * n / s / 1e9:.1f} GB/s")
        rows = a.reshape(-1, 1024)
        s = median_seconds(lambda: rows.sum(-1))
        print(f"sum_f32/last_axis/{n}: {s * 1e3:.4f} ms, {4 * n / s / 1e9:.1f} GB/s")
    for n in (128, 256, 512, 1024, 4096):
        a = torch.randn(n, n, device=dev)
        b = torch.randn(n, n, device=dev)
        s = median_seconds(lambda: a @ b)
        print(f"matmul_f32/{n}: {s * 1e3:.4f} ms, {2 * n**3 / s / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
