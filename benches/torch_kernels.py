"""PyTorch baseline for benches/kernels.rs on the same GPU (or, without
CUDA, on the CPU, for kiln's CPU backend): the same rows,
names and sizes, timed the same way (calls queued back to back, one device
sync at the end, the median of five trials; the CPU rows time only the
launches). Prints `name<TAB>seconds`
lines; benches/kernels.rs runs it with `--torch` and prints the ratios.

    python3 benches/torch_kernels.py [--full] [--only name,name]
"""
import statistics
import sys
import time

import torch

CUDA = torch.cuda.is_available()


def sync():
    if CUDA:
        torch.cuda.synchronize()


def per_call(fn, cpu_only=False):
    def run(reps):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        launched = time.perf_counter()
        sync()
        end = launched if cpu_only else time.perf_counter()
        return (end - start) / reps

    run(1)
    once = run(1)
    reps = min(max(int(0.05 / once), 3), 1000)
    return statistics.median(run(reps) for _ in range(5))


def warm_up():
    """Two seconds of work, so that the GPU's clocks have left their idle
    state before the first row is timed (as benches/kernels.rs does)."""
    a = torch.randn(2048, 2048, device="cuda" if CUDA else "cpu")
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0:
        a @ a
        sync()


ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else []


def report(name, fn):
    if ONLY and not any(o in name for o in ONLY):
        return
    print(f"{name}\t{per_call(fn):.9g}", flush=True)


def main():
    full = "--full" in sys.argv
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if CUDA else "cpu"
    where = torch.cuda.get_device_name() if CUDA else f"the CPU ({torch.get_num_threads()} threads)"
    print(f"torch {torch.__version__} on {where}", file=sys.stderr)
    if full:
        warm_up()

    def pick(big, small):
        return big if full else small

    def uniform(*shape, dtype=torch.float32):
        return (torch.rand(*shape, device=dev) * 2 - 1).to(dtype)

    def matmul(name, batch, m, n, k, dtype=torch.float32, b_transposed=False):
        lead = (batch,) if batch > 1 else ()
        a = uniform(*lead, m, k, dtype=dtype)
        b = uniform(*lead, n, k, dtype=dtype).mT if b_transposed else uniform(*lead, k, n, dtype=dtype)
        report(name, lambda: a @ b)

    for n in [1024, 2048, 4096, 8192] if full else [128, 256, 512]:
        matmul(f"matmul f32 {n}", 1, n, n, n)
    wide, thin = pick(4096, 512), pick(256, 32)
    matmul(f"matmul f32 {thin}x{wide}x{wide}", 1, thin, wide, wide)
    matmul(f"matmul f32 {wide}x{wide}x{thin}", 1, wide, wide, thin)
    nb, side = pick(64, 8), pick(512, 128)
    matmul(f"matmul f32 batched {nb}x{side}", nb, side, side, side)
    n = pick(4096, 256)
    matmul(f"matmul f32 {n} a@b.T", 1, n, n, n, b_transposed=True)
    for n in [4096, 8192] if full else [256]:
        matmul(f"matmul f16 {n}", 1, n, n, n, dtype=torch.float16)

    big = pick(1 << 24, 1 << 20)
    mega = big >> 20
    x, y = uniform(big), uniform(big)
    report(f"exp {mega}M", lambda: torch.exp(x))
    report(f"add {mega}M", lambda: x + y)
    side = pick(4096, 1024)
    matrix = x.reshape(side, -1)
    cols = matrix.shape[1]
    row = uniform(cols)
    report(f"add {side}x{cols} + row", lambda: matrix + row)
    report(f"add transposed {side}x{cols}", lambda: matrix.T + matrix.T)

    rows = x.reshape(-1, 1024)
    n_rows = rows.shape[0]
    report(f"sum all {mega}M", lambda: x.sum())
    report(f"max all {mega}M", lambda: x.max())
    report(f"sum last axis {n_rows}x1024", lambda: rows.sum(-1))
    report(f"sum first axis {n_rows}x1024", lambda: rows.sum(0))
    report(f"softmax rows {n_rows}x1024", lambda: torch.softmax(rows, -1))

    heads, length, dim = pick(128, 8), pick(1024, 128), 64
    q, k, v, w = (uniform(heads, length, dim) for _ in range(4))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    name = f"attention causal {heads}x{length}x{dim}"
    report(name, lambda: sdpa(q, k, v, is_causal=True))
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]

    def forward_backward():
        out = sdpa(*leaves, is_causal=True)
        return torch.autograd.grad(out, leaves, w)

    report(f"{name}, forward and backward", forward_backward)

    def chain(x):
        cube = x * x * x
        inner = cube * 0.044715 + x
        return (torch.tanh(inner * 0.7978846) + 1.0) * x

    report(f"chain of 8 ops {mega}M, eager", lambda: chain(x))
    try:
        compiled = torch.compile(chain)
        compiled(x)
        report(f"chain of 8 ops {mega}M, torch.compile", lambda: compiled(x))
    except Exception as e:  # torch.compile needs a compiler toolchain
        print(f"torch.compile unavailable: {e}", file=sys.stderr)

    ops = 1000
    tiny = torch.tensor([1.0, 2.0, 3.0, 4.0], device=dev)

    def adds():
        acc = tiny
        for _ in range(ops):
            acc = acc + tiny
        return acc

    seconds = per_call(adds, cpu_only=True)
    print(f"cpu per op, 1000 ops per eval\t{seconds:.9g}")
    print(f"cpu per op, eval after each\t{seconds:.9g}")


if __name__ == "__main__":
    main()
