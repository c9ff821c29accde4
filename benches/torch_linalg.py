"""torch.linalg (cuSOLVER / cuBLAS on the GPU; LAPACK on the CPU where
there is no CUDA, for kiln's CPU backend) for benches/linalg.rs: the
same ops on the same shapes and kinds of input (normal entries plus n on the
diagonal; symmetric positive definite for cholesky and eigh), timed the same
way: a warm-up, then the median of several runs, each ending in a device
sync. Prints a table with the same rows.

    python3 benches/torch_linalg.py [--large] [--ops eigh,svd] [--sizes 64,1024]
"""
import sys

import torch

from timing import median_seconds

OPS = ["lu_factor", "solve", "inv", "det", "cholesky", "qr", "eigh", "svd"]


def make(op, batch, n, dev):
    g = torch.Generator(device=dev).manual_seed(1)
    x = torch.randn(*batch, n, n, device=dev, generator=g)
    eye = n * torch.eye(n, device=dev)
    if op in ("cholesky", "eigh"):
        return x @ x.transpose(-1, -2) + eye
    return x + eye


def run(op, a, b):
    la = torch.linalg
    return {
        "lu_factor": lambda: la.lu_factor(a),
        "solve": lambda: la.solve(a, b),
        "inv": lambda: la.inv(a),
        "det": lambda: la.det(a),
        "cholesky": lambda: la.cholesky(a),
        "qr": lambda: la.qr(a),
        "eigh": lambda: la.eigh(a),
        "svd": lambda: la.svd(a, full_matrices=False),
    }[op]


def option(name):
    """The comma-separated values after `name` on the command line, if any."""
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1].split(",")
    return None


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    where = torch.cuda.get_device_name() if dev == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {where}")
    shapes = [((), n) for n in (16, 32, 48, 64, 128, 256, 1024)]
    if "--large" in sys.argv:
        shapes.append(((), 4096))
    shapes += [((10000,), 4), ((512,), 32)]
    sizes = option("--sizes")
    if sizes:
        shapes = [((), int(n)) for n in sizes]
    print(f"{'op':<10} {'shape':>14} {'torch ms':>12}")
    for op in option("--ops") or OPS:
        for batch, n in shapes:
            a = make(op, batch, n, dev)
            b = torch.randn(*batch, n, 1, device=dev)
            seconds = median_seconds(run(op, a, b), runs=5 if n >= 1024 else 20)
            count = batch[0] if batch else 1
            label = f"{count}x{n}x{n}" if batch else f"{n}x{n}"
            print(f"{op:<10} {label:>14} {seconds * 1e3:>12.3f}")


if __name__ == "__main__":
    main()
