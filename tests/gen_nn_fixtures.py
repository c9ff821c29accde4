#!/usr/bin/env python3
"""Regenerate kiln's neural-network reference fixtures.

Writes ``fixtures/nn.safetensors`` next to this script: layers, activations,
losses, optimizers and learning-rate schedules, with expected values from
PyTorch (NumPy where PyTorch has no such op).  Inputs are drawn as float32;
references are computed in float64 from those exact values and stored as
float32 (integer indices and labels as int32).

The output is deterministic (fixed seeds).  Run from the repository root:

    python3 tests/gen_nn_fixtures.py

Layout of the file:

* tensor keys are ``<case>/<item>``: ``x`` (``x2``, ... for more inputs),
  ``out``, ``cot`` (a cotangent shaped like ``out``; gradients are those of
  ``(out * cot).sum()``), ``param/<name>``, ``grad/<name>``, ``dx`` (``dx2``);
  optimizers use ``grad<k>/<name>`` and ``step<k>/<name>`` for steps 1..3;
* the safetensors metadata maps each case name to a JSON object with its
  ``kind`` and configuration.

Parameters use kiln's names and MLX's channels-last layouts: conv inputs are
(N, L, C) / (N, H, W, C), conv weights (O, K..., C/groups), attention layers
hold separate query/key/value projections.
"""

import json
import math
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file, save_file
from torch import nn
from torch.func import functional_call

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "fixtures", "nn.safetensors")

torch.manual_seed(0)
rng = np.random.default_rng(0)
warnings.simplefilter("ignore")

TENSORS = {}
META = {}
D = torch.float64


# ---------------------------------------------------------------------------
# storage and data helpers
# ---------------------------------------------------------------------------

def put(case, item, a):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(np.float32)
    else:
        assert a.dtype.kind in "iu", a.dtype
        a = a.astype(np.int32)
    key = f"{case}/{item}"
    assert key not in TENSORS, key
    TENSORS[key] = a.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)


def meta(case, kind, **fields):
    assert case not in META, case
    META[case] = json.dumps({"kind": kind, **fields})


def normal(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def uniform(*shape, bound=1.0):
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def ints(shape, hi):
    return rng.integers(0, hi, size=shape).astype(np.int32)


def t64(a, grad=False):
    """float32 data -> float64 leaf (integers -> int64)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.tensor(a.astype(np.float64), dtype=D, requires_grad=grad)
    return torch.tensor(a.astype(np.int64))


def weight(*shape, fan_in):
    # PyTorch's default range for linear / conv layers.
    return uniform(*shape, bound=1.0 / math.sqrt(fan_in))


def bias(n):
    return normal(n, scale=0.5)


def norm_affine(n):
    return 1.0 + normal(n, scale=0.2), normal(n, scale=0.2)


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


# ---------------------------------------------------------------------------
# generic differentiable case
# ---------------------------------------------------------------------------

def grad_case(case, fwd, inputs, params, store_params=True):
    """Run fwd(*inputs, **params) in float64 and store x, out, cot and grads.

    inputs: float32 / int32 arrays (stored as x, x2, ...; float ones get dx,
    dx2, ...); params: kiln name -> float32 array in kiln layout.
    """
    xs = [t64(a, grad=np.asarray(a).dtype.kind == "f") for a in inputs]
    ps = {k: t64(v, grad=True) for k, v in params.items()}
    out = fwd(*xs, **ps)
    cot = normal(*out.shape)
    (out * t64(cot)).sum().backward()
    for i, (a, x) in enumerate(zip(inputs, xs)):
        sfx = "" if i == 0 else str(i + 1)
        put(case, "x" + sfx, a)
        if x.requires_grad:
            put(case, "dx" + sfx, x.grad)
    put(case, "out", out)
    put(case, "cot", cot)
    for k, v in params.items():
        if store_params:
            put(case, f"param/{k}", v)
        put(case, f"grad/{k}", ps[k].grad)
    return out


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------

def linear_cases():
    p = {"weight": weight(3, 5, fan_in=5), "bias": bias(3)}
    grad_case("linear", lambda x, weight, bias: F.linear(x, weight, bias), [normal(4, 5)], p)
    meta("linear", "linear", **{"in": 5, "out": 3, "bias": True})

    p = {"weight": weight(2, 4, fan_in=4)}
    grad_case("linear_nobias", lambda x, weight: F.linear(x, weight), [normal(2, 3, 4)], p)
    meta("linear_nobias", "linear", **{"in": 4, "out": 2, "bias": False})


def embedding_case():
    p = {"weight": normal(10, 4)}
    grad_case("embedding", lambda x, weight: F.embedding(x, weight), [ints((2, 3), 10)], p)
    meta("embedding", "embedding", num=10, dims=4)


def conv1d_case():
    cin, cout, k, s, pad, dil, g = 4, 6, 3, 2, 1, 2, 2
    p = {"weight": weight(cout, k, cin // g, fan_in=k * cin // g), "bias": bias(cout)}

    def fwd(x, weight, bias):
        y = F.conv1d(x.permute(0, 2, 1), weight.permute(0, 2, 1), bias, s, pad, dil, g)
        return y.permute(0, 2, 1)

    grad_case("conv1d", fwd, [normal(2, 9, cin)], p)
    meta("conv1d", "conv1d", **{"in": cin, "out": cout, "kernel": k, "stride": s,
                                "padding": pad, "dilation": dil, "groups": g, "bias": True})


def conv2d_case(case, n, h, w, cin, cout, kernel, stride, padding, dilation, groups, has_bias):
    kh, kw = kernel
    p = {"weight": weight(cout, kh, kw, cin // groups, fan_in=kh * kw * cin // groups)}
    if has_bias:
        p["bias"] = bias(cout)

    def fwd(x, weight, bias=None):
        y = F.conv2d(nchw(x), nchw(weight), bias, stride, padding, dilation, groups)
        return nhwc(y)

    grad_case(case, fwd, [normal(n, h, w, cin)], p)
    meta(case, "conv2d", **{"in": cin, "out": cout, "kernel": list(kernel), "stride": list(stride),
                            "padding": list(padding), "dilation": list(dilation),
                            "groups": groups, "bias": has_bias})


def pool_cases():
    # A shuffled ramp: distinct values, so every window has a unique maximum.
    shape = (2, 7, 6, 3)
    x = (rng.permutation(np.prod(shape)).reshape(shape) * 0.05 - 6.0).astype(np.float32)
    grad_case("maxpool2d", lambda x: nhwc(F.max_pool2d(nchw(x), 3, 2, 1)), [x], {})
    meta("maxpool2d", "maxpool2d", kernel=[3, 3], stride=[2, 2], padding=[1, 1])

    for case, k, s, pad in (("avgpool2d", 2, 2, 0), ("avgpool2d_padded", 3, 2, 1)):
        fwd = lambda x, k=k, s=s, pad=pad: nhwc(F.avg_pool2d(nchw(x), k, s, pad, count_include_pad=True))
        grad_case(case, fwd, [normal(2, 6, 6, 3)], {})
        meta(case, "avgpool2d", kernel=[k, k], stride=[s, s], padding=[pad, pad])


def norm_cases():
    w, b = norm_affine(6)
    grad_case("layernorm", lambda x, weight, bias: F.layer_norm(x, (6,), weight, bias, 1e-5),
              [normal(3, 4, 6)], {"weight": w, "bias": b})
    meta("layernorm", "layernorm", dims=6, eps=1e-5, affine=True)

    w, _ = norm_affine(6)
    grad_case("rmsnorm", lambda x, weight: F.rms_norm(x, (6,), weight, 1e-6),
              [normal(3, 6)], {"weight": w})
    meta("rmsnorm", "rmsnorm", dims=6, eps=1e-6)

    w, b = norm_affine(6)
    grad_case("groupnorm", lambda x, weight, bias: nhwc(F.group_norm(nchw(x), 2, weight, bias, 1e-5)),
              [normal(2, 3, 3, 6)], {"weight": w, "bias": b})
    meta("groupnorm", "groupnorm", groups=2, channels=6, eps=1e-5)


def batchnorm_case(case, shape, eval_shape):
    c, eps, momentum = shape[-1], 1e-5, 0.1
    w, b = norm_affine(c)
    stats = {"mean": torch.zeros(c, dtype=D), "var": torch.ones(c, dtype=D)}

    def bn(x, weight, bias, training):
        to, back = (nchw, nhwc) if x.ndim == 4 else (lambda t: t, lambda t: t)
        y = F.batch_norm(to(x), stats["mean"], stats["var"], weight, bias,
                         training=training, momentum=momentum, eps=eps)
        return back(y)

    grad_case(case, lambda x, weight, bias: bn(x, weight, bias, True),
              [normal(*shape, scale=1.5) + 0.5], {"weight": w, "bias": b})
    put(case, "running_mean", stats["mean"])
    put(case, "running_var", stats["var"])
    x_eval = normal(*eval_shape)
    with torch.no_grad():
        out_eval = bn(t64(x_eval), t64(w), t64(b), False)
    put(case, "x_eval", x_eval)
    put(case, "out_eval", out_eval)
    meta(case, "batchnorm", channels=c, eps=eps, momentum=momentum)


def attention_params(e, prefix=""):
    p = {}
    for name in ("query_proj", "key_proj", "value_proj", "out_proj"):
        p[f"{prefix}{name}.weight"] = weight(e, e, fan_in=e)
        p[f"{prefix}{name}.bias"] = bias(e)
    return p


def torch_attention_params(p, kp, tp):
    """kiln attention params (prefix kp) -> nn.MultiheadAttention's (prefix tp)."""
    qkv = [f"{kp}{n}_proj" for n in ("query", "key", "value")]
    return {
        f"{tp}in_proj_weight": torch.cat([p[f"{n}.weight"] for n in qkv]),
        f"{tp}in_proj_bias": torch.cat([p[f"{n}.bias"] for n in qkv]),
        f"{tp}out_proj.weight": p[f"{kp}out_proj.weight"],
        f"{tp}out_proj.bias": p[f"{kp}out_proj.bias"],
    }


def mha_cases():
    e, h, b, l = 8, 2, 2, 5
    mha = nn.MultiheadAttention(e, h, batch_first=True, dtype=D)
    key_mask = np.ones((b, l), np.float32)
    key_mask[1, -2:] = 0.0
    causal = torch.ones(l, l, dtype=torch.bool).triu(1)  # True = not allowed
    padding = torch.tensor(key_mask == 0.0)  # True = ignored key

    def self_attn(x, **p):
        return functional_call(mha, torch_attention_params(p, "", ""), (x, x, x),
                               dict(attn_mask=causal, key_padding_mask=padding, need_weights=False))[0]

    grad_case("mha", self_attn, [normal(b, l, e)], attention_params(e))
    put("mha", "key_mask", key_mask)
    meta("mha", "mha", dims=e, heads=h, causal=True)

    h = 4
    mha = nn.MultiheadAttention(e, h, batch_first=True, dtype=D)

    def cross_attn(q, kv, **p):
        return functional_call(mha, torch_attention_params(p, "", ""), (q, kv, kv),
                               dict(need_weights=False))[0]

    grad_case("mha_cross", cross_attn, [normal(b, 3, e), normal(b, 6, e)], attention_params(e))
    meta("mha_cross", "mha", dims=e, heads=h, causal=False)


def transformer_case(case, norm_first, activation, causal):
    e, h, mlp, l = 8, 2, 16, 4
    layer = nn.TransformerEncoderLayer(e, h, mlp, dropout=0.0, activation=activation,
                                       layer_norm_eps=1e-5, batch_first=True,
                                       norm_first=norm_first, dtype=D)
    p = attention_params(e, "attention.")
    for name in ("norm1", "norm2"):
        p[f"{name}.weight"], p[f"{name}.bias"] = norm_affine(e)
    p["linear1.weight"], p["linear1.bias"] = weight(mlp, e, fan_in=e), bias(mlp)
    p["linear2.weight"], p["linear2.bias"] = weight(e, mlp, fan_in=mlp), bias(e)
    kwargs = {}
    if causal:
        mask = nn.Transformer.generate_square_subsequent_mask(l, dtype=D)
        kwargs = dict(src_mask=mask, is_causal=True)

    def fwd(x, **p):
        tp = torch_attention_params(p, "attention.", "self_attn.")
        tp.update({k: v for k, v in p.items() if not k.startswith("attention.")})
        return functional_call(layer, tp, (x,), kwargs)

    grad_case(case, fwd, [normal(2, l, e)], p)
    meta(case, "transformer", dims=e, heads=h, mlp_dims=mlp, norm_first=norm_first,
         activation=activation, causal=causal)


def rope_torch(x, dims, base, offset, traditional):
    n = x.shape[-2]
    pos = torch.arange(offset, offset + n, dtype=D)[:, None]
    theta = base ** (-torch.arange(0, dims // 2, dtype=D) * 2.0 / dims)
    ang = pos * theta
    cos, sin = torch.cos(ang), torch.sin(ang)
    xr, rest = x[..., :dims], x[..., dims:]
    if traditional:
        x1, x2 = xr[..., 0::2], xr[..., 1::2]
    else:
        x1, x2 = xr[..., : dims // 2], xr[..., dims // 2:]
    y1, y2 = x1 * cos - x2 * sin, x1 * sin + x2 * cos
    if traditional:
        y = torch.stack([y1, y2], dim=-1).flatten(-2)
    else:
        y = torch.cat([y1, y2], dim=-1)
    return torch.cat([y, rest], dim=-1)


def rope_cases():
    for case, dims, trad in (("rope", 8, False), ("rope_traditional", 8, True), ("rope_partial", 4, False)):
        fwd = lambda x, dims=dims, trad=trad: rope_torch(x, dims, 10000.0, 2, trad)
        grad_case(case, fwd, [normal(2, 3, 6, 8)], {})
        meta(case, "rope", dims=dims, base=10000.0, offset=2, traditional=trad)


def sinusoidal_case():
    length, dims = 10, 8
    half = dims // 2
    w = np.exp(-math.log(10000.0) * np.arange(half) / half)
    ang = np.arange(length)[:, None] * w[None, :]
    put("sinusoidal", "out", np.concatenate([np.sin(ang), np.cos(ang)], axis=-1))
    meta("sinusoidal", "sinusoidal", length=length, dims=dims, max_freq=1.0, min_freq=0.0001)


def layer_cases():
    linear_cases()
    embedding_case()
    conv1d_case()
    conv2d_case("conv2d", 2, 7, 6, 3, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, True)
    conv2d_case("conv2d_strided", 2, 9, 8, 4, 6, (3, 2), (2, 1), (2, 1), (2, 1), 2, True)
    conv2d_case("conv2d_depthwise", 1, 5, 5, 4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 4, False)
    pool_cases()
    norm_cases()
    batchnorm_case("batchnorm", (8, 5), (4, 5))
    batchnorm_case("batchnorm2d", (4, 3, 3, 5), (2, 3, 3, 5))
    mha_cases()
    transformer_case("transformer_post", False, "relu", False)
    transformer_case("transformer_pre", True, "gelu", True)
    rope_cases()
    sinusoidal_case()


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": (F.relu, {}),
    "gelu": (F.gelu, {}),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), {}),
    "silu": (F.silu, {}),
    "softplus": (F.softplus, {"beta": 1.0}),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.01), {"slope": 0.01}),
    "elu": (lambda x: F.elu(x, 1.0), {"alpha": 1.0}),
    "mish": (F.mish, {}),
    "log_sigmoid": (F.logsigmoid, {}),
    "sigmoid": (torch.sigmoid, {}),
    "tanh": (torch.tanh, {}),
    "softmax": (lambda x: F.softmax(x, -1), {"axis": -1}),
    "log_softmax": (lambda x: F.log_softmax(x, -1), {"axis": -1}),
    "glu": (lambda x: F.glu(x, -1), {"axis": -1}),
}


def activation_cases():
    # 21 even steps over [-4, 3.9]: never exactly 0, |x| <= 4.
    x = np.linspace(-4.0, 3.9, 21).reshape(3, 7).astype(np.float32)
    assert np.all(x != 0)
    for name, (f, extra) in ACTIVATIONS.items():
        xi = np.linspace(-4.0, 4.0, 24).reshape(3, 8).astype(np.float32) if name == "glu" else x
        grad_case(f"act_{name}", f, [xi], {})
        meta(f"act_{name}", "activation", name=name, **extra)


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------

REDUCTIONS = ("mean", "sum", "none")


def loss_cases(prefix, fwd, inputs, **fields):
    for red in REDUCTIONS:
        case = f"{prefix}_{red}"
        grad_case(case, lambda *xs, red=red: fwd(*xs, red), inputs, {})
        meta(case, "loss", reduction=red, **fields)


def probs(*shape):
    return torch.softmax(t64(normal(*shape)), -1).numpy().astype(np.float32)


def all_loss_cases():
    logits, tgt = normal(6, 5), ints((6,), 5)
    ce = dict(name="cross_entropy", targets="indices", ignore_index=None)
    loss_cases("cross_entropy_idx",
               lambda x, t, r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1),
               [logits, tgt], label_smoothing=0.1, **ce)

    tgt_ign = ints((6,), 5)
    tgt_ign[[1, 4]] = -100
    loss_cases("cross_entropy_ignore",
               lambda x, t, r: F.cross_entropy(x, t, reduction=r, ignore_index=-100),
               [normal(6, 5), tgt_ign], label_smoothing=0.0,
               **{**ce, "ignore_index": -100})

    loss_cases("cross_entropy_probs", lambda x, t, r: F.cross_entropy(x, t, reduction=r),
               [normal(6, 5), probs(6, 5)], label_smoothing=0.0,
               **{**ce, "targets": "probs"})

    loss_cases("cross_entropy_3d",
               lambda x, t, r: F.cross_entropy(x.permute(0, 2, 1), t, reduction=r),
               [normal(2, 3, 4), ints((2, 3), 4)], label_smoothing=0.0, **ce)

    bce_t = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.75, 0.5], np.float32)
    loss_cases("binary_cross_entropy",
               lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
               [normal(7, scale=2.0), bce_t], name="binary_cross_entropy")

    logp = torch.log_softmax(t64(normal(6, 5)), -1).numpy().astype(np.float32)
    loss_cases("nll", lambda x, t, r: F.nll_loss(x, t, reduction=r),
               [logp, ints((6,), 5)], name="nll")

    loss_cases("mse", lambda x, t, r: F.mse_loss(x, t, reduction=r), [normal(4, 3), normal(4, 3)], name="mse")
    loss_cases("l1", lambda x, t, r: F.l1_loss(x, t, reduction=r), [normal(4, 3), normal(4, 3)], name="l1")

    # |x - x2| spans (0, ~5): both branches of smooth_l1 (beta 0.5) and huber (delta 1.5).
    spread = lambda: [normal(4, 3, scale=2.0), normal(4, 3)]
    x, y = spread()
    d = np.abs(x - y)
    assert (d < 0.5).any() and (d > 0.5).any()
    loss_cases("smooth_l1", lambda x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
               [x, y], name="smooth_l1", beta=0.5)
    x, y = spread()
    d = np.abs(x - y)
    assert (d < 1.5).any() and (d > 1.5).any()
    loss_cases("huber", lambda x, t, r: F.huber_loss(x, t, reduction=r, delta=1.5),
               [x, y], name="huber", delta=1.5)

    logq = torch.log_softmax(t64(normal(4, 5)), -1).numpy().astype(np.float32)
    loss_cases("kl_div", lambda x, t, r: F.kl_div(x, t, reduction=r),
               [logq, probs(4, 5)], name="kl_div")


# ---------------------------------------------------------------------------
# optimizers
# ---------------------------------------------------------------------------

def opt_inputs():
    return ({"w": normal(4, 3), "b": normal(3)},
            [{"w": normal(4, 3), "b": normal(3)} for _ in range(3)])


PARAMS0, GRADS = opt_inputs()


def put_opt_inputs(case):
    for k, v in PARAMS0.items():
        put(case, f"param/{k}", v)
    for i, g in enumerate(GRADS, 1):
        for k, v in g.items():
            put(case, f"grad{i}/{k}", v)


def torch_opt_case(case, name, cls, **hp):
    put_opt_inputs(case)
    ps = {k: t64(v, grad=True) for k, v in PARAMS0.items()}
    opt = cls(list(ps.values()), **hp)
    for i, g in enumerate(GRADS, 1):
        for k, p in ps.items():
            p.grad = t64(g[k])
        opt.step()
        for k, p in ps.items():
            put(case, f"step{i}/{k}", p)
    hp = {k: list(v) if isinstance(v, tuple) else v for k, v in hp.items()}
    meta(case, "optimizer", name=name, **hp)


def lion_case():
    lr, (b1, b2), wd = 0.001, (0.9, 0.99), 0.1
    put_opt_inputs("lion")
    ps = {k: v.astype(np.float64) for k, v in PARAMS0.items()}
    ms = {k: np.zeros_like(v) for k, v in ps.items()}
    for i, g in enumerate(GRADS, 1):
        for k in ps:
            gk = g[k].astype(np.float64)
            c = b1 * ms[k] + (1 - b1) * gk
            ps[k] = ps[k] - lr * (np.sign(c) + wd * ps[k])
            ms[k] = b2 * ms[k] + (1 - b2) * gk
            put("lion", f"step{i}/{k}", ps[k])
    meta("lion", "optimizer", name="lion", lr=lr, betas=[b1, b2], weight_decay=wd)


def clip_grad_norm_case():
    grads = {k: v * 3.0 for k, v in GRADS[0].items()}
    ps = {k: t64(np.zeros_like(v), grad=True) for k, v in grads.items()}
    for k, p in ps.items():
        p.grad = t64(grads[k])
    total = nn.utils.clip_grad_norm_(list(ps.values()), max_norm=1.0)
    assert total > 1.0
    for k in ps:
        put("clip_grad_norm", f"grad1/{k}", grads[k])
        put("clip_grad_norm", f"clipped/{k}", ps[k].grad)
    put("clip_grad_norm", "total_norm", total)
    meta("clip_grad_norm", "clip_grad_norm", max_norm=1.0)


def optimizer_cases():
    O = torch.optim
    torch_opt_case("sgd", "sgd", O.SGD, lr=0.1)
    torch_opt_case("sgd_momentum", "sgd", O.SGD, lr=0.1, momentum=0.9, dampening=0.0)
    torch_opt_case("sgd_nesterov", "sgd", O.SGD, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    torch_opt_case("adam", "adam", O.Adam, lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    torch_opt_case("adam_wd", "adam", O.Adam, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    torch_opt_case("adamw", "adamw", O.AdamW, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    torch_opt_case("rmsprop", "rmsprop", O.RMSprop, lr=0.01, alpha=0.99, eps=1e-8)
    torch_opt_case("rmsprop_momentum", "rmsprop", O.RMSprop, lr=0.01, alpha=0.99, eps=1e-8,
                   momentum=0.5, centered=True)
    torch_opt_case("adagrad", "adagrad", O.Adagrad, lr=0.1, eps=1e-10)
    lion_case()
    clip_grad_norm_case()


# ---------------------------------------------------------------------------
# learning-rate schedules
# ---------------------------------------------------------------------------

STEPS = 30


def torch_lrs(sched_cls, init, **kw):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=init)
    sched = sched_cls(opt, **kw)
    lrs = []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


def cosine(s, init, decay_steps, end):
    return end + 0.5 * (init - end) * (1.0 + math.cos(math.pi * min(s, decay_steps) / decay_steps))


def linear(s, init, end, steps):
    return init + (end - init) * min(s, steps) / steps


def schedule(name, lrs, **fields):
    put(f"schedule_{name}", "out", np.asarray(lrs))
    meta(f"schedule_{name}", "schedule", name=name, **fields)


def schedule_cases():
    S = torch.optim.lr_scheduler
    schedule("step_decay", torch_lrs(S.StepLR, 0.1, step_size=7, gamma=0.5),
             init=0.1, decay_rate=0.5, step_size=7)
    schedule("exponential_decay", torch_lrs(S.ExponentialLR, 0.1, gamma=0.9),
             init=0.1, decay_rate=0.9)

    # torch up to decay_steps; afterwards kiln holds the end value.
    lrs = torch_lrs(S.CosineAnnealingLR, 0.1, T_max=20, eta_min=0.001)
    ref = np.array([cosine(s, 0.1, 20, 0.001) for s in range(STEPS)])
    assert np.allclose(lrs[:21], ref[:21], rtol=1e-12, atol=1e-15)
    schedule("cosine_decay", np.concatenate([lrs[:21], ref[21:]]), init=0.1, decay_steps=20, end=0.001)

    schedule("linear_schedule", [linear(s, 0.0, 0.1, 10) for s in range(STEPS)],
             init=0.0, end=0.1, steps=10)

    joined = [linear(s, 0.0, 0.1, 10) if s < 10 else cosine(s - 10, 0.1, 20, 0.0) for s in range(STEPS)]
    schedule("joined", joined, boundaries=[10], schedules=[
        {"name": "linear_schedule", "init": 0.0, "end": 0.1, "steps": 10},
        {"name": "cosine_decay", "init": 0.1, "decay_steps": 20, "end": 0.0},
    ])


# ---------------------------------------------------------------------------

def main():
    layer_cases()
    activation_cases()
    all_loss_cases()
    optimizer_cases()
    schedule_cases()

    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    save_file(TENSORS, OUT_PATH, metadata=META)

    back = load_file(OUT_PATH)
    assert back.keys() == TENSORS.keys()
    assert all(np.array_equal(back[k], v) for k, v in TENSORS.items())
    cases = sorted({k.split("/", 1)[0] for k in TENSORS})
    assert set(cases) == set(META), set(cases) ^ set(META)
    print(f"nn.safetensors: {len(TENSORS)} tensors, {len(cases)} cases, "
          f"{os.path.getsize(OUT_PATH)} bytes")


if __name__ == "__main__":
    main()
