"""PyTorch baseline for benches/transforms.rs on the same GPU, timed the same
way (warm-up, then the median of several runs, each building the work and
ending in a device sync):

- MLP loss, and its value and gradient (torch.func.grad_and_value);
- a 64x64 Jacobian by torch.func.jacrev / jacfwd (vmap inside) and by a
  loop of 64 vjps;
- a tanh-GELU chain written op by op (one kernel each), and
  torch.nn.functional.gelu(approximate="tanh") (one fused kernel).

    python3 benches/torch_transforms.py
"""
import torch
import torch.nn.functional as F
from torch.func import grad_and_value, jacfwd, jacrev, vjp

from timing import median_seconds


def median_ms(fn):
    return median_seconds(fn) * 1e3


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cuda"
    print(f"device: {torch.cuda.get_device_name()}")
    g = torch.Generator(device=dev).manual_seed(0)
    batch, d_in, hidden, classes = 256, 512, 512, 10
    params = [
        torch.randn(d_in, hidden, device=dev, generator=g) * 0.05,
        torch.randn(hidden, device=dev, generator=g) * 0.01,
        torch.randn(hidden, classes, device=dev, generator=g) * 0.05,
        torch.randn(classes, device=dev, generator=g) * 0.01,
    ]
    x = torch.randn(batch, d_in, device=dev, generator=g)
    labels = torch.randint(0, classes, (batch,), device=dev, generator=g)

    def loss(p):
        h = torch.tanh(x @ p[0] + p[1])
        return F.cross_entropy(h @ p[2] + p[3], labels)

    size = f"{batch}x{d_in}x{hidden}x{classes}"
    print(f"mlp/loss/{size}: {median_ms(lambda: loss(params)):.4f} ms")
    gv = grad_and_value(loss)
    print(f"mlp/value_and_grad/{size}: {median_ms(lambda: gv(params)):.4f} ms")

    n = 64
    w = torch.randn(n, n, device=dev, generator=g) * 0.2
    b = torch.randn(n, device=dev, generator=g) * 0.1
    v = torch.randn(n, device=dev, generator=g)

    def f(x):
        return torch.tanh(w @ x + b) * torch.sin(x)

    print(f"jacobian/jacrev/{n}: {median_ms(lambda: jacrev(f)(v)):.4f} ms")
    print(f"jacobian/jacfwd/{n}: {median_ms(lambda: jacfwd(f)(v)):.4f} ms")
    eye = torch.eye(n, device=dev)

    def loop():
        _, pull = vjp(f, v)
        return torch.stack([pull(eye[i])[0] for i in range(n)])

    print(f"jacobian/loop_of_vjps/{n}: {median_ms(loop):.4f} ms")

    def gelu_ops(x):
        inner = (x + x * x * x * 0.044715) * 0.7978846
        return x * 0.5 * (1.0 + torch.tanh(inner))

    for size in (1 << 16, 1 << 20, 1 << 24):
        a = torch.randn(size, device=dev, generator=g)
        ms = median_ms(lambda: gelu_ops(a))
        print(f"gelu/op_by_op/{size}: {ms:.4f} ms, {8 * size / ms / 1e6:.1f} GB/s")
        ms = median_ms(lambda: F.gelu(a, approximate="tanh"))
        print(f"gelu/fused/{size}: {ms:.4f} ms, {8 * size / ms / 1e6:.1f} GB/s")


if __name__ == "__main__":
    main()
