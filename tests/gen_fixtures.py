#!/usr/bin/env python3
"""Regenerate kiln's reference test fixtures.

Writes two files next to this script:

* ``fixtures/ops.json``    -- array-op cases whose expected results come from
  NumPy / SciPy (computed in float64 / int64 from the exact input values and
  cast to the dtype kiln returns);
* ``fixtures/random.json`` -- PRNG streams from JAX (threefry2x32, default
  ``jax_threefry_partitionable=True``).

The output is deterministic (fixed seed).  Run from the repository root:

    python3 tests/gen_fixtures.py

Tensor encoding: ``{"dtype", "shape", "data" (flat, row-major), "view"?}``.
Non-finite floats are the strings "nan", "inf", "-inf".  float32 values are
written in the shortest decimal form that round-trips (checked through
f64 -> f32), float16 values exactly.  An optional ``view`` is a list of steps
(``transpose`` / ``slice`` / ``broadcast_to``) applied in order to the array
built from data/shape to get the actual (non-contiguous) argument.
"""

import json
import math
import os
import warnings
from collections import Counter

import numpy as np
import scipy.special as sp

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")

rng = np.random.default_rng(0)
warnings.simplefilter("ignore")
np.seterr(all="ignore")

nan, inf = float("nan"), float("inf")

DT = {
    "float32": np.float32,
    "float16": np.float16,
    "int32": np.int32,
    "uint32": np.uint32,
    "bool": np.bool_,
}
ORDER = ["bool", "uint32", "int32", "float16", "float32"]
FLOATS = ("float16", "float32")
INTS = ("int32", "uint32")


# ---------------------------------------------------------------------------
# kiln dtype rules
# ---------------------------------------------------------------------------

def dtname(a):
    n = np.asarray(a).dtype.name
    assert n in DT, n
    return n


def promote(*dts):
    # bool < uint32 < int32 < float16 < float32 (int32+uint32 -> int32,
    # any int with float16 -> float16): the maximum in this order.
    return max(dts, key=ORDER.index)


def float_out(dt):
    return dt if dt in FLOATS else "float32"


def sum_out(dt):
    return "int32" if dt == "bool" else dt


def wide(a):
    """Exact widening for reference computation: floats -> f64, others -> i64."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return a.astype(np.float64)
    return a.astype(np.int64)


def cast(res, dt):
    res = np.asarray(res)
    if dt in INTS and res.size:
        info = np.iinfo(DT[dt])
        assert res.min() >= info.min and res.max() <= info.max, (dt, res)
    return res.astype(DT[dt])


# ---------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------

def enc_float(f, dt):
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if dt == "float32":
        s = float(str(np.float32(f)))
        if np.float32(s) == np.float32(f) and math.copysign(1.0, s) == math.copysign(1.0, f):
            return s
    return f


def tensor(a, view=None):
    a = np.asarray(a)
    dt = dtname(a)
    flat = np.ascontiguousarray(a).reshape(-1).tolist()
    if dt in FLOATS:
        data = [enc_float(v, dt) for v in flat]
    elif dt == "bool":
        data = [bool(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    t = {"dtype": dt, "shape": list(a.shape), "data": data}
    if view:
        t["view"] = view
    return t


def apply_view(a, steps):
    for kind, p in steps:
        if kind == "transpose":
            a = np.transpose(a, p)
        elif kind == "slice":
            a = a[tuple(slice(*s) for s in p)]
        elif kind == "broadcast_to":
            a = np.broadcast_to(a, p)
        else:
            raise ValueError(kind)
    return a


def T(*perm):
    return [["transpose", list(perm)]]


def S(*slices):
    return [["slice", [list(s) for s in slices]]]


def BC(*shape):
    return [["broadcast_to", list(shape)]]


N = None  # shorthand for null slice entries

# ---------------------------------------------------------------------------
# data generators
# ---------------------------------------------------------------------------


def U(shape, lo=-3.0, hi=3.0, dec=3):
    # "+ 0.0" turns rounded -0.0 into 0.0: random data never holds -0.0
    # (edge-value cases add it explicitly).
    return np.round(rng.uniform(lo, hi, size=shape), dec) + 0.0


def I(shape, lo, hi):
    return rng.integers(lo, hi, size=shape)


def B(shape, p=0.5):
    return rng.random(shape) < p


def X(data, dt="float32", view=None):
    a = np.asarray(data)
    if dt in INTS and a.dtype.kind == "f":
        assert np.all(np.isfinite(a)) and np.all(a == np.round(a))
    if dt == "uint32" and a.dtype.kind in "if":
        assert a.size == 0 or a.min() >= 0
    return (a.astype(DT[dt]), view)


# ---------------------------------------------------------------------------
# reference implementations
# ---------------------------------------------------------------------------

REF = {}

UNARY_FLOAT = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p,
    "log2": np.log2, "log10": np.log10, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x), "reciprocal": lambda x: 1.0 / x,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "erf": sp.erf, "erfinv": sp.erfinv,
    "cbrt": np.cbrt, "exp2": np.exp2, "deg2rad": np.deg2rad, "rad2deg": np.rad2deg,
}
for _name, _f in UNARY_FLOAT.items():
    REF[_name] = (lambda f: lambda v, p: cast(f(v[0].astype(np.float64)), float_out(dtname(v[0]))))(_f)

SAME_UNARY = {"negative": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square}
for _name, _f in SAME_UNARY.items():
    REF[_name] = (lambda f: lambda v, p: cast(f(wide(v[0])), "int32" if dtname(v[0]) == "bool" else dtname(v[0])))(_f)

for _name, _f in {"floor": np.floor, "ceil": np.ceil, "round": np.round}.items():
    REF[_name] = (lambda f: lambda v, p: cast(f(wide(v[0])) if dtname(v[0]) in FLOATS else v[0], dtname(v[0])))(_f)

for _name, _f in {"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}.items():
    REF[_name] = (lambda f: lambda v, p: cast(f(wide(v[0])), "bool"))(_f)
REF["logical_not"] = lambda v, p: cast(wide(v[0]) == 0, "bool")

ARITH = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
         "maximum": np.maximum, "minimum": np.minimum, "power": np.power,
         "floor_divide": np.floor_divide, "remainder": np.remainder}
CMP = {"equal": np.equal, "not_equal": np.not_equal, "less": np.less,
       "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal}
BITW = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor}
SHIFT = {"left_shift": np.left_shift, "right_shift": np.right_shift}


# Float ops of two arguments: integers and bools compute as float32.
FLOAT_BINARY = {"arctan2": np.arctan2, "logaddexp": np.logaddexp, "hypot": np.hypot, "copysign": np.copysign}


def binary_ref(op):
    def r(v, p):
        a, b = v
        dt = promote(dtname(a), dtname(b))
        x = wide(a.astype(DT[dt]))
        y = wide(b.astype(DT[dt]))
        if op in ARITH:
            out = "int32" if dt == "bool" else dt
            if out in INTS:
                if op in ("floor_divide", "remainder"):
                    safe = np.where(y == 0, 1, y)
                    res = np.where(y == 0, 0, ARITH[op](x, safe))
                elif op == "power":
                    assert np.all(y >= 0)
                    res = np.power(x, y)
                else:
                    res = ARITH[op](x, y)
            else:
                res = ARITH[op](x, y)
            return cast(res, out)
        if op == "divide":
            return cast(x.astype(np.float64) / y.astype(np.float64), float_out(dt))
        if op in FLOAT_BINARY:
            return cast(FLOAT_BINARY[op](x.astype(np.float64), y.astype(np.float64)), float_out(dt))
        if op in CMP:
            return cast(CMP[op](x, y), "bool")
        if op == "logical_and":
            return cast((x != 0) & (y != 0), "bool")
        if op == "logical_or":
            return cast((x != 0) | (y != 0), "bool")
        if op in BITW:
            assert dt not in FLOATS
            return cast(BITW[op](x, y), dt)
        if op in SHIFT:
            assert dt in INTS and np.all((y >= 0) & (y < 32))
            return cast(SHIFT[op](x, y), dt)
        raise ValueError(op)
    return r


BINARY_OPS = list(ARITH) + ["divide", "arctan2"] + list(CMP) + ["logical_and", "logical_or"] + list(BITW) + list(SHIFT)
# Ops added to the tables later: their cases come from a generator of their
# own (see added_op_cases), so that every earlier case keeps its values.
ADDED_BINARY_OPS = ["logaddexp", "hypot", "copysign"]
for _op in BINARY_OPS + ADDED_BINARY_OPS:
    REF[_op] = binary_ref(_op)


def where_ref(v, p):
    c, x, y = v
    assert dtname(c) == "bool"
    dt = promote(dtname(x), dtname(y))
    return cast(np.where(c, x.astype(DT[dt]), y.astype(DT[dt])), dt)


REF["where"] = where_ref


def clip_ref(v, p):
    x = v[0]
    return cast(np.clip(wide(x), p["lo"], p["hi"]), dtname(x))


REF["clip"] = clip_ref


def astype_ref(v, p):
    x, tgt = v[0], p["dtype"]
    src = dtname(x)
    if src in FLOATS and tgt in INTS:
        assert np.all(np.isfinite(x))
        info = np.iinfo(DT[tgt])
        assert np.all((np.trunc(wide(x)) >= info.min) & (np.trunc(wide(x)) <= info.max))
    return x.astype(DT[tgt])


REF["astype"] = astype_ref


def axes_of(p):
    return None if p.get("axes") is None else tuple(p["axes"])


REF["sum"] = lambda v, p: cast(np.sum(wide(v[0]), axis=axes_of(p), keepdims=p["keepdims"]), sum_out(dtname(v[0])))
REF["prod"] = lambda v, p: cast(np.prod(wide(v[0]), axis=axes_of(p), keepdims=p["keepdims"]), sum_out(dtname(v[0])))
REF["max"] = lambda v, p: cast(np.max(v[0], axis=axes_of(p), keepdims=p["keepdims"]), dtname(v[0]))
REF["min"] = lambda v, p: cast(np.min(v[0], axis=axes_of(p), keepdims=p["keepdims"]), dtname(v[0]))
REF["all"] = lambda v, p: cast(np.all(wide(v[0]) != 0, axis=axes_of(p), keepdims=p["keepdims"]), "bool")
REF["any"] = lambda v, p: cast(np.any(wide(v[0]) != 0, axis=axes_of(p), keepdims=p["keepdims"]), "bool")
REF["mean"] = lambda v, p: cast(np.mean(v[0].astype(np.float64), axis=axes_of(p), keepdims=p["keepdims"]), float_out(dtname(v[0])))
REF["var"] = lambda v, p: cast(np.var(v[0].astype(np.float64), axis=axes_of(p), keepdims=p["keepdims"], ddof=p["ddof"]), float_out(dtname(v[0])))
REF["std"] = lambda v, p: cast(np.std(v[0].astype(np.float64), axis=axes_of(p), keepdims=p["keepdims"], ddof=p["ddof"]), float_out(dtname(v[0])))
REF["logsumexp"] = lambda v, p: cast(np.reshape(sp.logsumexp(v[0].astype(np.float64), axis=axes_of(p), keepdims=p["keepdims"]), np.sum(v[0], axis=axes_of(p), keepdims=p["keepdims"]).shape), float_out(dtname(v[0])))
REF["argmax"] = lambda v, p: cast(np.argmax(v[0], axis=p["axis"], keepdims=p["keepdims"]), "int32")
REF["argmin"] = lambda v, p: cast(np.argmin(v[0], axis=p["axis"], keepdims=p["keepdims"]), "int32")
REF["cumsum"] = lambda v, p: cast(np.cumsum(wide(v[0]), axis=p["axis"]), sum_out(dtname(v[0])))
REF["cumprod"] = lambda v, p: cast(np.cumprod(wide(v[0]), axis=p["axis"]), sum_out(dtname(v[0])))


def softmax_parts(x, axes):
    x = x.astype(np.float64)
    m = np.max(x, axis=axes, keepdims=True)
    e = np.exp(x - m)
    s = np.sum(e, axis=axes, keepdims=True)
    return x, m, e, s


def softmax_ref(v, p):
    x, m, e, s = softmax_parts(v[0], tuple(p["axes"]))
    return cast(e / s, float_out(dtname(v[0])))


def log_softmax_ref(v, p):
    x, m, e, s = softmax_parts(v[0], tuple(p["axes"]))
    return cast(x - m - np.log(s), float_out(dtname(v[0])))


REF["softmax"] = softmax_ref
REF["log_softmax"] = log_softmax_ref

REF["reshape"] = lambda v, p: np.reshape(v[0], p["shape"])
REF["flatten"] = lambda v, p: np.reshape(v[0], -1)
REF["transpose"] = lambda v, p: np.transpose(v[0], p["axes"])
REF["swapaxes"] = lambda v, p: np.swapaxes(v[0], p["axis1"], p["axis2"])
REF["moveaxis"] = lambda v, p: np.moveaxis(v[0], p["source"], p["destination"])
REF["expand_dims"] = lambda v, p: np.expand_dims(v[0], tuple(p["axes"]))
REF["squeeze"] = lambda v, p: np.squeeze(v[0], axis=axes_of(p))
REF["broadcast_to"] = lambda v, p: np.broadcast_to(v[0], p["shape"])
REF["slice"] = lambda v, p: v[0][tuple(slice(*s) for s in p["slices"])]


def concat_ref(v, p):
    dt = promote(*[dtname(a) for a in v])
    return np.concatenate([a.astype(DT[dt]) for a in v], axis=p["axis"])


def stack_ref(v, p):
    dt = promote(*[dtname(a) for a in v])
    return np.stack([a.astype(DT[dt]) for a in v], axis=p["axis"])


REF["concatenate"] = concat_ref
REF["stack"] = stack_ref
REF["split"] = lambda v, p: list(np.split(v[0], p["sections"], axis=p["axis"]))
REF["pad"] = lambda v, p: np.pad(v[0], p["pad_width"], mode="constant", constant_values=p["value"])
REF["tile"] = lambda v, p: np.tile(v[0], p["reps"])
REF["repeat"] = lambda v, p: np.repeat(v[0], p["repeats"], axis=p["axis"])
REF["flip"] = lambda v, p: np.flip(v[0], axis=axes_of(p))
REF["diagonal"] = lambda v, p: np.diagonal(v[0], p["offset"], p["axis1"], p["axis2"])
REF["trace"] = lambda v, p: cast(np.trace(wide(v[0]), p["offset"], p["axis1"], p["axis2"]), sum_out(dtname(v[0])))


def take_ref(v, p):
    a, idx = v
    assert dtname(idx) == "int32"
    return np.take(a, idx.astype(np.int64), axis=p["axis"])


def take_along_ref(v, p):
    a, idx = v
    ax = p["axis"] % a.ndim
    assert dtname(idx) == "int32" and idx.ndim == a.ndim
    for d in range(a.ndim):
        if d != ax:
            assert idx.shape[d] in (1, a.shape[d])
    return np.take_along_axis(a, idx.astype(np.int64), axis=ax)


def scatter_add_ref(v, p):
    a, idx, upd = v
    ax = p["axis"] % a.ndim
    assert dtname(idx) == "int32" and idx.ndim == a.ndim and dtname(upd) == dtname(a)
    tgt = list(a.shape)
    tgt[ax] = idx.shape[ax]
    ib = np.broadcast_to(idx.astype(np.int64), tgt)
    ub = np.broadcast_to(wide(upd), tgt)
    assert np.all((ib >= 0) & (ib < a.shape[ax]))
    out = wide(a).copy()
    grid = list(np.indices(tgt, sparse=False)) if tgt else []
    grid[ax] = ib
    np.add.at(out, tuple(grid), ub)
    return cast(out, dtname(a))


REF["take"] = take_ref
REF["take_along_axis"] = take_along_ref
REF["scatter_add"] = scatter_add_ref


def lin_ref(f):
    def r(v, p):
        a, b = v
        dt = promote(dtname(a), dtname(b))
        assert dt != "bool"
        return cast(f(wide(a.astype(DT[dt])), wide(b.astype(DT[dt])), p), dt)
    return r


REF["matmul"] = lin_ref(lambda a, b, p: np.matmul(a, b))
REF["outer"] = lin_ref(lambda a, b, p: np.outer(a, b))
REF["inner"] = lin_ref(lambda a, b, p: np.inner(a, b))
REF["tensordot"] = lin_ref(lambda a, b, p: np.tensordot(a, b, axes=p["axes"]))

REF["sort"] = lambda v, p: np.sort(v[0], axis=p["axis"], kind="stable")
REF["argsort"] = lambda v, p: cast(np.argsort(v[0], axis=p["axis"], kind="stable"), "int32")


def topk_ref(v, p):
    x, k, ax = v[0], p["k"], p["axis"]
    w = wide(x)
    assert not np.any(np.isnan(w.astype(np.float64)))
    order = np.argsort(-w, axis=ax, kind="stable")
    idx = np.take(order, np.arange(k), axis=ax)
    return [np.take_along_axis(x, idx, axis=ax), cast(idx, "int32")]


REF["topk"] = topk_ref

REF["zeros"] = lambda v, p: np.zeros(p["shape"], DT[p["dtype"]])
REF["ones"] = lambda v, p: np.ones(p["shape"], DT[p["dtype"]])
REF["full"] = lambda v, p: np.full(p["shape"], p["value"], np.float64 if p["dtype"] in FLOATS else np.int64).astype(DT[p["dtype"]])


def arange_ref(v, p):
    dt = p["dtype"]
    w = np.float64 if dt in FLOATS else np.int64
    return cast(np.arange(p["start"], p["stop"], p["step"], dtype=w), dt)


REF["arange"] = arange_ref
REF["linspace"] = lambda v, p: cast(np.linspace(p["start"], p["stop"], p["num"], endpoint=p["endpoint"]), "float32")
REF["eye"] = lambda v, p: np.eye(p["n"], p["m"], p["k"], dtype=DT[p["dtype"]])
REF["tri"] = lambda v, p: np.tri(p["n"], p["m"], p["k"], dtype=DT[p["dtype"]])
REF["tril"] = lambda v, p: np.tril(v[0], p["k"])
REF["triu"] = lambda v, p: np.triu(v[0], p["k"])

# ---------------------------------------------------------------------------
# case collection
# ---------------------------------------------------------------------------

CASES = []


def case(op, args, params=None, note=""):
    params = {} if params is None else params
    js, vals = [], []
    for a in args:
        base, view = a
        js.append(tensor(base, view))
        vals.append(apply_view(base, view) if view else base)
    exp = REF[op](vals, params)
    if isinstance(exp, list):
        e = [tensor(np.asarray(t)) for t in exp]
    else:
        e = tensor(np.asarray(exp))
    CASES.append({"op": op, "args": js, "params": params, "expected": e, "note": note})


# ---------------------------------------------------------------------------
# unary element-wise
# ---------------------------------------------------------------------------

EDGE_COMMON = [nan, inf, -inf, -0.0, 0.0]


def logspace(shape, lo=-3, hi=3):
    return np.round(10.0 ** rng.uniform(lo, hi, size=shape), 4)


# op: (domain generator, extra edge values, int32 values, uint32 values, bool ok)
UNARY = {
    "negative": (lambda s: U(s, -10, 10), [1e30, -1e30, 3.5], [-7, 0, 5, 2**31 - 1, -(2**31) + 1], None, True),
    "abs": (lambda s: U(s, -10, 10), [1e30, -1e30, -3.5], [-7, 0, 5, 2**31 - 1, -(2**31) + 1], [0, 5, 4000000000], True),
    "sign": (lambda s: U(s, -10, 10), [1e30, -1e30, 1e-30, -1e-30], [-7, 0, 5, -(2**31)], [0, 3, 4000000000], True),
    "square": (lambda s: U(s, -10, 10), [1e20, -1e20, 1e-30, 3.0], [-46340, -3, 0, 7, 46340], [0, 3, 65535], True),
    "exp": (lambda s: U(s, -10, 10), [88.0, 89.0, -100.0, -104.0, 1e30, -1e30, 1.0], [-3, 0, 1, 5, 20], [0, 1, 10], True),
    "expm1": (lambda s: U(s, -5, 5), [1e-7, -1e-7, 1e-3, 100.0, -1e30], [-2, 0, 3], [0, 4], True),
    "log": (lambda s: logspace(s), [-1.0, 1.0, 1e30, 1e-30, 1.2e-38, -1e30], [0, 1, 2, 10, 100, -1], [0, 1, 1000], True),
    "log1p": (lambda s: U(s, -0.99, 10), [-1.0, -2.0, 1e-7, -1e-7, 1e30], [-1, 0, 1, 9, -5], [0, 1, 99], True),
    "log2": (lambda s: logspace(s), [-1.0, 1.0, 1024.0, 0.125, 1e30, 1e-30], [0, 1, 2, 8, 1024, -4], [0, 1, 4096], True),
    "log10": (lambda s: logspace(s), [-1.0, 1.0, 1000.0, 1e-5, 1e30, 1e-30], [0, 1, 10, 1000, -10], [0, 1, 100000], True),
    "sqrt": (lambda s: U(s, 0, 100), [-1.0, 4.0, 1e30, 1e-30, -1e30], [0, 1, 4, 17, -1], [0, 9, 4000000000], True),
    "rsqrt": (lambda s: U(s, 0.01, 100), [-1.0, 4.0, 0.25, 1e30, 1e-30], [0, 1, 4, 17, -1], [0, 1, 16], True),
    "reciprocal": (lambda s: U(s, -10, 10), [1e30, -1e30, 1e-30, 3.0, -8.0], [-2, 0, 1, 3, 7], [0, 1, 8], True),
    "sin": (lambda s: U(s, -7, 7), [math.pi / 2, math.pi, -math.pi / 2, 100.0, -100.0], [-3, 0, 1, 2, 3], [0, 1, 5], True),
    "cos": (lambda s: U(s, -7, 7), [math.pi / 2, math.pi, -math.pi, 100.0, -100.0], [-3, 0, 1, 2, 3], [0, 1, 5], True),
    "tan": (lambda s: U(s, -1.5, 1.5), [math.pi / 4, -math.pi / 4, 1.5, -1.5, 10.0], [-1, 0, 1, 2], [0, 1, 3], True),
    "arcsin": (lambda s: U(s, -1, 1), [1.0, -1.0, 0.5, 1.5, -2.0, 1e30], [-1, 0, 1, 2], [0, 1, 2], True),
    "arccos": (lambda s: U(s, -1, 1), [1.0, -1.0, 0.5, 1.5, -2.0, 1e30], [-1, 0, 1, -2], [0, 1, 3], True),
    "arctan": (lambda s: U(s, -10, 10), [1.0, -1.0, 1e30, -1e30, 1e-7], [-5, 0, 1, 100], [0, 1, 100], True),
    "sinh": (lambda s: U(s, -5, 5), [100.0, -100.0, 1e-7, 88.0, 1e30], [-3, 0, 2, 10], [0, 2], True),
    "cosh": (lambda s: U(s, -5, 5), [100.0, -100.0, 1e-7, 88.0, -1e30], [-3, 0, 2, 10], [0, 2], True),
    "tanh": (lambda s: U(s, -5, 5), [20.0, -20.0, 1e30, -1e30, 1e-7], [-3, 0, 1, 10], [0, 1], True),
    "arcsinh": (lambda s: U(s, -10, 10), [1e30, -1e30, 1e-7, -1e-7], [-5, 0, 1, 1000], [0, 1, 1000], True),
    "arccosh": (lambda s: U(s, 1, 20), [1.0, 1.0001, 0.5, -1.0, 1e30], [0, 1, 2, 10], [0, 1, 7], True),
    "arctanh": (lambda s: U(s, -0.99, 0.99), [1.0, -1.0, 0.999, -0.999, 1.5, -2.0], [-1, 0, 1, 2], [0, 1], True),
    "sigmoid": (lambda s: U(s, -10, 10), [100.0, -100.0, 20.0, -20.0, 1e30, -1e30], [-5, 0, 5, 100], [0, 3], True),
    "erf": (lambda s: U(s, -3, 3), [10.0, -10.0, 1e-7, 1e30, -1e30], [-2, 0, 1, 3], [0, 1, 2], True),
    "erfinv": (lambda s: U(s, -0.99, 0.99), [1.0, -1.0, 0.999, -0.999, 1e-7, 1.5, -2.0], [-1, 0, 1, 2], [0, 1], True),
    "floor": (lambda s: U(s, -10, 10, 1), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.4, 0.4, 1e30, -1e30, 8388607.5, 0.49999997], [-3, 0, 5], [0, 7, 4000000000], False),
    "ceil": (lambda s: U(s, -10, 10, 1), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.4, 0.4, 1e30, -1e30, 8388607.5, 0.49999997], [-3, 0, 5], [0, 7, 4000000000], False),
    "round": (lambda s: U(s, -10, 10, 1), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.4, 0.4, 1e30, -1e30, 8388607.5, 0.49999997, 2.5000002], [-3, 0, 5], [0, 7, 4000000000], False),
    "isnan": (lambda s: U(s, -10, 10), [1e30, 1e-45, 3.0], [-3, 0, 5], [0, 7], True),
    "isinf": (lambda s: U(s, -10, 10), [1e30, 3.4e38, 3.0], [-3, 0, 5], [0, 7], True),
    "isfinite": (lambda s: U(s, -10, 10), [1e30, 3.4e38, 3.0], [-3, 0, 5], [0, 7], True),
    "logical_not": (lambda s: U(s, -2, 2, 0), [1.0, 1e-30, -2.0], [-3, 0, 1, 5], [0, 7], True),
}

ADDED_UNARY = {
    "cbrt": (lambda s: U(s, -10, 10), [8.0, -27.0, 1e30, -1e30, 1e-30, 1e-7, 0.001, 3.0], [-8, 0, 1, 27, 1000], [0, 8, 4000000000], True),
    "exp2": (lambda s: U(s, -10, 10), [1.0, 10.0, -1.0, 0.5, 127.0, 128.0, -126.0, -150.0, 1e30, -1e30], [-3, 0, 1, 10], [0, 1, 31], True),
    "deg2rad": (lambda s: U(s, -400, 400), [180.0, 90.0, -360.0, 1e30, 1e-30], [-180, 0, 90, 360], [0, 180], True),
    "rad2deg": (lambda s: U(s, -7, 7), [math.pi, -math.pi / 2, 1.0, 1e30, 1e-30], [-3, 0, 1, 2], [0, 1, 7], True),
}

# Inputs stay normal numbers: WGSL may flush subnormals, so results on
# subnormal inputs (e.g. log) are not portable.  astype covers subnormals.
F16_EXTRA = [65504.0, -65504.0, 6.2e-5, 1e-4, 0.1, 11.5]


def unary_cases(op):
    dom, extra, ints, uints, bool_ok = UNARY[op] if op in UNARY else ADDED_UNARY[op]
    edges = EDGE_COMMON + extra
    if op == "rsqrt":
        edges = [e for e in edges if not (e == 0 and math.copysign(1, e) < 0)]  # 1/sqrt(-0.0) = -inf: skipped
    case(op, [X(edges)], {}, "edge values f32")
    case(op, [X(dom((3, 4)))], {}, "2-D f32")
    case(op, [X(dom(()))], {}, "0-d f32")
    case(op, [X(np.zeros((0, 3)))], {}, "empty (0,3)")
    case(op, [X(dom((5, 3)), view=T(1, 0))], {}, "transposed input")
    case(op, [X(dom((7, 6)), view=S([N, N, -2], [1, N, 2]))], {}, "sliced input, steps -2 and 2")
    case(op, [X(dom((1, 4)), view=BC(3, 4))], {}, "broadcast (stride 0) input")
    case(op, [X(dom((2, 3, 4)), view=T(2, 0, 1))], {}, "3-D transposed input")
    case(op, [X(dom((263,)))], {}, "1-D odd length 263")
    case(op, [X(dom((2, 5)), "float16")], {}, "float16")
    f16_edges = [e for e in edges if not ((abs(e) > 65504 or 0 < abs(e) < 6.2e-5) and math.isfinite(e))] + [
        v for v in F16_EXTRA if (op not in ("arcsin", "arccos", "arctanh", "erfinv") or abs(v) <= 1)]
    if op == "rsqrt":
        f16_edges = [e for e in f16_edges if not (e == 0 and math.copysign(1, e) < 0)]
    case(op, [X(f16_edges, "float16")], {}, "float16 edge values")
    if ints is not None:
        case(op, [X(ints, "int32")], {}, "int32 input")
        case(op, [X(np.reshape(np.resize(ints, 6), (2, 3)), "int32", view=T(1, 0))], {}, "int32 transposed input")
    if uints is not None:
        case(op, [X(uints, "uint32")], {}, "uint32 input")
    if bool_ok:
        case(op, [X([True, False, True], "bool")], {}, "bool input")


# ---------------------------------------------------------------------------
# binary element-wise
# ---------------------------------------------------------------------------

def gen_bin(op, role, shape, dt):
    if dt == "bool":
        return B(shape)
    fl = dt in FLOATS
    if op in ("floor_divide", "remainder"):
        if fl:
            if role == "a":
                return U(shape, -10, 10, 2)
            return U(shape, 0.1, 5, 2) * rng.choice([-1.0, 1.0], size=shape)
        if dt == "uint32":
            return I(shape, 0, 100) if role == "a" else I(shape, 1, 13)
        if role == "a":
            return I(shape, -50, 50)
        v = I(shape, -9, 10)
        return np.where(v == 0, 3, v)
    if op == "power":
        if fl:
            return U(shape, 0.1, 4, 2) if role == "a" else U(shape, -2, 3, 2)
        if dt == "uint32":
            return I(shape, 0, 7) if role == "a" else I(shape, 0, 7)
        return I(shape, -5, 6) if role == "a" else I(shape, 0, 6)
    if op == "divide" and role == "b":
        if fl:
            return U(shape, 0.5, 5, 2) * rng.choice([-1.0, 1.0], size=shape)
        if dt == "uint32":
            return I(shape, 1, 20)
        v = I(shape, -9, 10)
        return np.where(v == 0, 4, v)
    if op in SHIFT:
        if role == "b":
            return I(shape, 0, 8) if op == "left_shift" else I(shape, 0, 32)
        if op == "left_shift":
            return I(shape, -1000, 1000) if dt == "int32" else I(shape, 0, 1000)
        return I(shape, -(2**31), 2**31) if dt == "int32" else I(shape, 0, 2**32)
    if op in BITW:
        return I(shape, -(2**31), 2**31) if dt == "int32" else I(shape, 0, 2**32)
    if op == "subtract" and dt == "uint32":
        return I(shape, 100, 200) if role == "a" else I(shape, 0, 100)
    if op in ("logical_and", "logical_or"):
        return rng.choice([0.0, 1.0, -2.5], size=shape) if fl else rng.choice([0, 3, -1] if dt == "int32" else [0, 3, 1], size=shape)
    if op in CMP:
        if fl:
            return U(shape, -2, 2, 1)
        return I(shape, -3, 4) if dt == "int32" else I(shape, 0, 5)
    if fl:
        return U(shape, -5, 5, 2)
    if dt == "uint32":
        return I(shape, 0, 100)
    return I(shape, -50, 50)


def bin_valid(op, a, b):
    dt = promote(dtname(a), dtname(b))
    if op in ("floor_divide", "remainder") and dt in FLOATS:
        x = a.astype(DT[dt]).astype(np.float64)
        y = b.astype(DT[dt]).astype(np.float64)
        x, y = np.broadcast_arrays(x, y)
        if np.any(y == 0):
            return False
        q = x / y
        # reject quotients so close to an integer that rounding in f32/f16
        # arithmetic could move floor() across it (exact quotients are fine)
        tol = 4e-3 if dt == "float16" else 1e-5
        near = np.abs(q - np.round(q)) < tol * np.maximum(1.0, np.abs(q))
        exact = x == np.round(q) * y
        return bool(np.all(~near | exact))
    if op == "power" and dt in FLOATS:
        x = a.astype(DT[dt]).astype(np.float64)
        y = b.astype(DT[dt]).astype(np.float64)
        x, y = np.broadcast_arrays(x, y)
        # random cases: no negative bases with fractional exponents (explicit case below)
        return bool(np.all((x >= 0) | (y == np.round(y))))
    return True


def bin_case(op, sa, sb, dta, dtb, va=None, vb=None, note=""):
    for _ in range(1000):
        ga, gb = gen_bin(op, "a", sa, dta), gen_bin(op, "b", sb, dtb)
        if {dta, dtb} == {"uint32", "int32"}:
            # mixed uint32/int32 promotes to int32: keep uint32 values < 2**31
            ga = ga % 2**31 if dta == "uint32" else ga
            gb = gb % 2**31 if dtb == "uint32" else gb
        a = X(ga, dta, va)
        b = X(gb, dtb, vb)
        av = apply_view(a[0], va) if va else a[0]
        bv = apply_view(b[0], vb) if vb else b[0]
        if bin_valid(op, av, bv):
            case(op, [a, b], {}, note)
            return
    raise RuntimeError("could not generate valid inputs for " + op)


def binary_cases(op):
    int_only = op in BITW or op in SHIFT
    base = "int32" if int_only else "float32"
    alt = "uint32" if int_only else "float16"
    tag = base[0] + base[-2:]  # f32 / i32
    bin_case(op, (3, 4), (3, 4), base, base, note="same shape " + tag)
    bin_case(op, (3, 1), (4,), base, base, note="broadcast (3,1) with (4,)")
    bin_case(op, (), (2, 3), base, base, note="0-d with (2,3)")
    bin_case(op, (2, 3), (), base, base, note="(2,3) with 0-d")
    bin_case(op, (), (), base, base, note="both 0-d")
    bin_case(op, (0, 3), (3,), base, base, note="empty (0,3) with (3,)")
    bin_case(op, (2, 1, 4), (3, 1), base, base, note="3-D broadcast (2,1,4) with (3,1)")
    bin_case(op, (4, 3), (6, 4), base, base, va=T(1, 0), vb=S([N, N, -2]), note="transposed and negative-step sliced inputs")
    bin_case(op, (1, 4), (3, 8), base, base, va=BC(3, 4), vb=S([N, N, N], [1, N, 2]), note="broadcast_to view and step-2 slice")
    bin_case(op, (4, 3), (4,), base, base, va=T(1, 0), vb=None, note="transposed with broadcast row")
    bin_case(op, (17, 33), (33,), base, base, note="larger ragged (17,33) with (33,)")
    bin_case(op, (2, 5), (5,), alt, alt, note=alt)
    if not int_only:
        to_f = " -> float32" if op in ("arctan2", "divide") else ""
        bin_case(op, (3, 4), (4,), "int32", "int32", note="int32" + to_f)
        bin_case(op, (2, 3), (2, 3), "uint32", "uint32", note="uint32" + to_f)
        if op not in ("floor_divide", "remainder", "power"):
            bin_case(op, (2, 3), (3,), "bool", "bool", note="bool with bool")
            bin_case(op, (3,), (2, 3), "bool", "float16", note="bool with float16 -> float16")
            bin_case(op, (2, 3), (3,), "bool", "int32", note="bool with int32 -> int32")
        if op == "power":
            bin_case(op, (2, 3), (3,), "uint32", "int32", note="uint32 with int32 -> int32")
            case(op, [X(I((2, 3), 0, 5), "int32"), X(U((3,), -1, 2, 2))], {}, "int32 with float32 -> float32")
            case(op, [X(I((2, 3), 0, 4), "int32"), X(I((3,), 0, 4), "float16")], {}, "int32 with float16 -> float16")
        else:
            bin_case(op, (3,), (2, 3), "int32", "float32", note="int32 with float32 -> float32")
            bin_case(op, (2, 3), (3,), "uint32", "int32", note="uint32 with int32 -> int32")
            bin_case(op, (2, 3), (2, 3), "int32", "float16", note="int32 with float16 -> float16")
    else:
        bin_case(op, (3, 4), (4,), "uint32", "int32", note="uint32 with int32 -> int32")
        if op in BITW:
            bin_case(op, (2, 3), (3,), "bool", "bool", note="bool with bool -> bool")
            bin_case(op, (2, 3), (3,), "bool", "int32", note="bool with int32 -> int32")
            bin_case(op, (2, 3), (3,), "bool", "uint32", note="bool with uint32 -> uint32")


def added_op_cases():
    """The cases of the ops added later, from a generator of their own."""
    global rng
    saved, rng = rng, np.random.default_rng(1)
    for op in ADDED_UNARY:
        unary_cases(op)
    for op in ADDED_BINARY_OPS:
        binary_cases(op)
    f = lambda *v: X(list(v))
    case("logaddexp", [f(inf, -inf, -inf, nan, 0.0, 100.0, -100.0, 1e30, 80.0), f(inf, -inf, 1.0, 1.0, 0.0, -100.0, -100.0, 1e30, 90.0)], {}, "infinities, nan, equal arguments, no overflow")
    case("hypot", [f(3.0, inf, nan, -inf, 0.0, 1e30, 1e-30, -5.0, 0.0), f(4.0, nan, inf, 1.0, -0.0, 1e30, 1e-30, 12.0, 7.0)], {}, "infinity beats nan, no overflow or underflow")
    case("copysign", [f(1.0, -1.0, 0.0, inf, 3.0, 2.5, -7.0), f(-0.0, 0.0, -1.0, -1.0, nan, -inf, 1e-30)], {}, "signed zeros and infinities")
    rng = saved


REF["hstack"] = lambda v, p: np.hstack([a.astype(DT[promote(*[dtname(b) for b in v])]) for a in v])
REF["vstack"] = lambda v, p: np.vstack([a.astype(DT[promote(*[dtname(b) for b in v])]) for a in v])
REF["diff"] = lambda v, p: np.diff(v[0], n=p["n"], axis=p["axis"])
REF["meshgrid"] = lambda v, p: [np.ascontiguousarray(g) for g in np.meshgrid(*v, indexing=p["indexing"])]
REF["isclose"] = lambda v, p: np.isclose(v[0], v[1], rtol=p["rtol"], atol=p["atol"], equal_nan=p["equal_nan"])
REF["allclose"] = lambda v, p: np.array(np.allclose(v[0], v[1], rtol=p["rtol"], atol=p["atol"], equal_nan=p["equal_nan"]))
REF["array_equal"] = lambda v, p: np.array(np.array_equal(v[0], v[1], equal_nan=p["equal_nan"]))


def nan_to_num_ref(v, p):
    x = v[0]
    big = np.finfo(x.dtype).max if x.dtype.kind == "f" else None
    return np.nan_to_num(x, nan=p["nan"], posinf=p["posinf"] if p["posinf"] is not None else big,
                         neginf=p["neginf"] if p["neginf"] is not None else (None if big is None else -big))


REF["nan_to_num"] = nan_to_num_ref
REF["one_hot"] = lambda v, p: (v[0][..., None] == np.arange(p["num_classes"])).astype(DT[p["dtype"]])
REF["cov"] = lambda v, p: cast(np.cov(wide(v[0]).astype(np.float64), rowvar=p["rowvar"], ddof=p["ddof"]), "float32")
REF["corrcoef"] = lambda v, p: cast(np.corrcoef(wide(v[0]).astype(np.float64), rowvar=p["rowvar"]), "float32")
REF["convolve"] = lambda v, p: cast(np.convolve(wide(v[0]), wide(v[1]), mode=p["mode"]), promote(dtname(v[0]), dtname(v[1])))
REF["correlate"] = lambda v, p: cast(np.correlate(wide(v[0]), wide(v[1]), mode=p["mode"]), promote(dtname(v[0]), dtname(v[1])))


def einsum_ref(v, p):
    dt = promote(*[dtname(a) for a in v])
    return cast(np.einsum(p["subscripts"], *[wide(a.astype(DT[dt])) for a in v]), dt)


REF["einsum"] = einsum_ref


def composite_op_cases():
    """NumPy's stacking, difference, grid, tolerance, one-hot, statistics,
    convolution and einsum functions, from a generator of their own."""
    global rng
    saved, rng = rng, np.random.default_rng(2)
    M = lambda shape, dt="float32": X(U(shape, -2, 2, 3), dt) if dt != "int32" else X(I(shape, -5, 5), "int32")
    case("hstack", [M((3,)), M((2,)), X(U((), -2, 2, 3))], {}, "1-D and 0-d")
    case("hstack", [M((2, 3)), M((2, 1)), M((2, 2), "int32")], {}, "2-D, int promoted")
    case("vstack", [M((3,)), M((2, 3)), M((3,))], {}, "rows and matrices")
    case("vstack", [M((2, 2, 2)), M((1, 2, 2))], {}, "3-D")
    case("diff", [M((6,))], {"n": 1, "axis": -1}, "first")
    case("diff", [M((4, 5))], {"n": 2, "axis": 0}, "second along axis 0")
    case("diff", [M((3, 4), "int32")], {"n": 1, "axis": 1}, "int32")
    case("diff", [X([True, False, False, True, True])], {"n": 1, "axis": 0}, "bool: not equal")
    case("diff", [M((3,))], {"n": 5, "axis": 0}, "n past the length")
    case("meshgrid", [M((3,)), M((2,))], {"indexing": "xy"}, "xy")
    case("meshgrid", [M((3,)), M((2,)), M((4,))], {"indexing": "ij"}, "ij, three axes")
    case("meshgrid", [M((3,)), M((2,)), M((4,))], {"indexing": "xy"}, "xy, three axes")
    near = lambda *v: X(list(v))
    case("isclose", [near(1.0, 1.0, inf, inf, -inf, nan, nan, 1e-9, 100.0, 0.0),
                     near(1.000001, 1.1, inf, -inf, -inf, nan, 1.0, 0.0, 100.001, 1e-7)],
         {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}, "infinities, nan, tolerances")
    case("isclose", [near(nan, nan, 1.0), near(nan, 1.0, 1.0)], {"rtol": 1e-5, "atol": 1e-8, "equal_nan": True}, "equal_nan")
    case("isclose", [M((2, 3)), M((3,))], {"rtol": 0.5, "atol": 0.5, "equal_nan": False}, "broadcast, wide tolerances")
    case("allclose", [near(1.0, 2.0), near(1.0, 2.0000001)], {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}, "close")
    case("allclose", [near(1.0, 2.0), near(1.0, 2.1)], {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}, "not close")
    case("array_equal", [near(1.0, nan), near(1.0, nan)], {"equal_nan": True}, "nan equal")
    case("array_equal", [near(1.0, nan), near(1.0, nan)], {"equal_nan": False}, "nan unequal")
    case("array_equal", [M((2, 2)), M((4,))], {"equal_nan": False}, "shapes differ")
    case("array_equal", [X([[1, 2], [3, 4]], "int32"), X([[1, 2], [3, 4]], "int32")], {"equal_nan": False}, "int32 equal")
    case("nan_to_num", [near(nan, inf, -inf, 1.5, -0.0)], {"nan": 0.0, "posinf": None, "neginf": None}, "defaults")
    case("nan_to_num", [near(nan, inf, -inf, 1.5)], {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}, "given values")
    case("nan_to_num", [M((4,), "int32")], {"nan": 0.0, "posinf": None, "neginf": None}, "int32 as it is")
    case("one_hot", [X([0, 2, 1, 4, 5, -1], "int32")], {"num_classes": 5, "dtype": "float32"}, "out of range gives zeros")
    case("one_hot", [X([[0, 1], [2, 2]], "int32")], {"num_classes": 3, "dtype": "int32"}, "2-D, int32")
    case("cov", [M((3, 6))], {"rowvar": True, "ddof": 1}, "rows are variables")
    case("cov", [M((6, 2))], {"rowvar": False, "ddof": 0}, "columns, ddof 0")
    case("cov", [M((5,))], {"rowvar": True, "ddof": 1}, "1-D: the variance")
    case("corrcoef", [M((3, 7))], {"rowvar": True}, "rows")
    case("corrcoef", [M((7, 2))], {"rowvar": False}, "columns")
    for mode in ("full", "same", "valid"):
        case("convolve", [M((7,)), M((3,))], {"mode": mode}, mode)
        case("convolve", [M((2,)), M((5,))], {"mode": mode}, mode + ", shorter first")
        case("correlate", [M((6,)), M((4,))], {"mode": mode}, mode)
    case("convolve", [M((5,), "int32"), M((2,), "int32")], {"mode": "full"}, "int32")
    case("einsum", [M((3, 4)), M((4, 5))], {"subscripts": "ij,jk->ik"}, "matrix product")
    case("einsum", [M((2, 3, 4)), M((2, 4, 5))], {"subscripts": "bij,bjk->bik"}, "batched")
    case("einsum", [M((4, 4))], {"subscripts": "ii->i"}, "diagonal")
    case("einsum", [M((4, 4))], {"subscripts": "ii"}, "trace, implicit")
    case("einsum", [M((3, 4))], {"subscripts": "ij->ji"}, "transpose")
    case("einsum", [M((3, 4))], {"subscripts": "ij->"}, "sum")
    case("einsum", [M((3,)), M((4,))], {"subscripts": "i,j"}, "outer, implicit")
    case("einsum", [M((3,)), M((3,))], {"subscripts": "i,i"}, "inner, implicit")
    case("einsum", [M((2, 3)), M((3, 4)), M((4, 2))], {"subscripts": "ij,jk,kl->il"}, "three operands")
    case("einsum", [M((2, 5, 3)), M((3, 4))], {"subscripts": "...j,jk->...k"}, "ellipsis")
    case("einsum", [M((1, 3, 4)), M((5, 4, 2))], {"subscripts": "...ij,...jk->...ik"}, "broadcast ellipsis")
    case("einsum", [M((3, 4)), M((4, 3))], {"subscripts": "ij,ji->i"}, "shared batch label from a transpose")
    case("einsum", [M((2, 3)), M((3, 2), "int32")], {"subscripts": "ij,jk"}, "implicit output, int promoted")
    case("einsum", [M((3, 3, 2))], {"subscripts": "iij->j"}, "diagonal then sum")
    case("einsum", [M((2, 3)), M((2, 3))], {"subscripts": "ij,ij->ij"}, "elementwise")
    rng = saved


def binary_edge_cases():
    f = lambda *v: X(list(v))
    case("add", [f(inf, -inf, nan, 1e30, -0.0, -0.0, 3e38, -inf), f(-inf, -inf, 1.0, 1e30, 0.0, -0.0, 3e38, 5.0)], {}, "non-finite, -0.0 and overflow")
    case("subtract", [f(inf, inf, nan, -0.0, 0.0, -3e38, 1e30), f(inf, -inf, 0.0, 0.0, 0.0, 3e38, 1e30)], {}, "non-finite, -0.0 and overflow")
    case("multiply", [f(inf, 0.0, -0.0, 1e30, nan, -1.0, 1e-30, -inf), f(0.0, -1.0, 5.0, 1e30, 1.0, 0.0, 1e-30, -2.0)], {}, "non-finite, signed zero, overflow/underflow")
    case("divide", [f(1.0, -1.0, 0.0, inf, 1.0, -0.0, 1e30, nan, 7.0), f(0.0, 0.0, 0.0, inf, -inf, 3.0, 1e-30, 1.0, -0.0)], {}, "division by zero and non-finite")
    case("divide", [X([7, -7, 0, 5], "int32"), X([0, 2, 0, -2], "int32")], {}, "int32 -> float32 incl. division by zero")
    case("floor_divide", [f(1.0, -1.0, 0.0, 2.5), f(0.0, 0.0, 0.0, -0.0)], {}, "float division by zero (the one explicit case)")
    case("floor_divide", [f(7.5, -7.5, 7.5, -7.5, 6.0, -6.0, 0.25, nan), f(2.0, 2.0, -2.0, -2.0, 1.5, 1.5, 1.0, 2.0)], {}, "signs, exact quotients, nan")
    case("floor_divide", [f(inf, -inf, 1.0, -5.0), f(2.0, 2.0, inf, inf)], {}, "infinite operands (numpy divmod semantics: inf//x = nan, -5//inf = -1)")
    case("floor_divide", [X([7, -7, 7, -7, 0, 5, -5], "int32"), X([2, 2, -2, -2, 3, 0, 0], "int32")], {}, "int32 signs and division by zero -> 0")
    case("floor_divide", [X([7, 0, 9, 100], "uint32"), X([2, 3, 0, 7], "uint32")], {}, "uint32 incl. division by zero -> 0")
    case("remainder", [f(7.5, -7.5, 7.5, -7.5, 0.75, -0.75, nan, 3.0), f(2.0, 2.0, -2.0, -2.0, 0.5, 0.5, 2.0, 0.0)], {}, "sign follows divisor, nan, x % 0 = nan")
    case("remainder", [f(inf, 1.0, -1.0), f(2.0, inf, inf)], {}, "infinite operands (numpy divmod semantics)")
    case("remainder", [X([7, -7, 7, -7, 0, 5, -5], "int32"), X([3, 3, -3, -3, 3, 0, 0], "int32")], {}, "int32 signs and division by zero -> 0")
    case("remainder", [X([7, 0, 9, 100], "uint32"), X([2, 3, 0, 7], "uint32")], {}, "uint32 incl. division by zero -> 0")
    case("power", [f(-2.0, -2.0, -3.0, -1.5, 0.0, 0.0, 0.0, 2.0, 4.0, 1.0, nan, 2.0, 10.0, 2.0), f(2.0, 3.0, -1.0, 2.0, -1.0, -2.0, 0.0, 0.5, -0.5, nan, 0.0, -inf, 40.0, 0.0)], {}, "negative bases with integer exponents, 0**negative, 0**0, nan, overflow")
    case("power", [X(U((3, 4), 0.01, 10, 2)), X(U((4,), -2.5, 2.5, 2))], {}, "positive bases, fractional exponents")
    case("power", [X(I((3, 4), -4, 5).astype(float)), X(I((4,), -3, 4).astype(float))], {}, "float negative bases with integer exponents")
    case("power", [f(-8.0, -1.0, -0.5), f(1.0 / 3.0, 0.5, 2.5)], {}, "negative base with fractional exponent -> nan")
    case("power", [X([-3, -2, -1, 0, 1, 2, 3, 7], "int32"), X([3, 2, 5, 0, 9, 10, 0, 3], "int32")], {}, "int32 negative bases, zero exponent")
    case("power", [X([True, False, True, False], "bool"), X([True, True, False, False], "bool")], {}, "bool ** bool -> int32")
    case("maximum", [f(nan, 1.0, inf, -inf, 2.0, nan), f(1.0, nan, 2.0, -3.0, 2.0, nan)], {}, "nan propagates")
    case("minimum", [f(nan, 1.0, inf, -inf, 2.0, nan), f(1.0, nan, 2.0, -3.0, 2.0, nan)], {}, "nan propagates")
    case("maximum", [X([-(2**31), 5, 2**31 - 1], "int32"), X([0, -5, 0], "int32")], {}, "int32 extremes")
    case("minimum", [X([0, 2**32 - 1, 7], "uint32"), X([2**31, 5, 7], "uint32")], {}, "uint32 large values")
    case("arctan2", [f(0.0, -0.0, 0.0, -0.0, 1.0, -1.0, inf, -inf, inf, nan, 1.0, -1.0, 3.0), f(0.0, 0.0, -0.0, -0.0, 0.0, 0.0, inf, inf, -inf, 1.0, -inf, -inf, 1e30)], {}, "signed zeros, infinities, nan")
    for op in CMP:
        case(op, [f(nan, nan, 1.0, -0.0, inf, -inf, 2.0, 1e30, -1.0), f(nan, 1.0, nan, 0.0, inf, inf, 2.0, inf, -1.0)], {}, "nan, inf, -0.0 == 0.0, equal values")
        case(op, [X([0, 2**31, 2**32 - 1, 5], "uint32"), X([1, 2**31 - 1, 0, 5], "uint32")], {}, "uint32 large values (unsigned compare)")
    for op in ("logical_and", "logical_or"):
        case(op, [f(nan, 0.0, -0.0, 1.0, inf, 0.0), f(1.0, 1.0, 1.0, 0.0, -0.0, 0.0)], {}, "nan is truthy, -0.0 is falsy")
        case(op, [X([0, -3, 7, 0], "int32"), X([True, True, False, False], "bool")], {}, "int32 with bool")
    case("bitwise_and", [X([-1, -(2**31), 2**31 - 1, 0x0F0F0F0F, -8], "int32"), X([0x7FFF, -1, -1, 0x00FF00FF, 7], "int32")], {}, "int32 sign bits")
    case("bitwise_or", [X([2**32 - 1, 2**31, 12345, 0], "uint32"), X([0, 1, 0xF0F0, 0], "uint32")], {}, "uint32 high bit")
    case("bitwise_xor", [X([-1, -(2**31), 0x0F0F0F0F, 5], "int32"), X([0x55555555, -1, -1, 5], "int32")], {}, "int32 sign bits")
    case("right_shift", [X([-1, -8, -(2**31), 2**31 - 1, -5], "int32"), X([1, 2, 31, 30, 0], "int32")], {}, "arithmetic shift of negatives")
    case("right_shift", [X([2**32 - 1, 2**31, 12345, 1], "uint32"), X([31, 4, 0, 1], "uint32")], {}, "logical shift of uint32")
    case("left_shift", [X([1, -1, 3, -(2**20), 0], "int32"), X([30, 4, 29, 10, 31], "int32")], {}, "large shifts without overflow")
    case("left_shift", [X([1, 3, 2**16 - 1, 0], "uint32"), X([31, 30, 16, 5], "uint32")], {}, "uint32 into the high bit")


# ---------------------------------------------------------------------------
# where / clip / astype
# ---------------------------------------------------------------------------

def where_clip_astype_cases():
    case("where", [X(B((3, 4)), "bool"), X(U((3, 4))), X(U((3, 4)))], {}, "same shape f32")
    case("where", [X(B((3, 1)), "bool"), X(U((4,))), X(U(()))], {}, "broadcast cond (3,1), x (4,), y 0-d")
    case("where", [X(B(()), "bool"), X(U((2, 3))), X(U((2, 3)))], {}, "0-d cond")
    case("where", [X(B((4,)), "bool"), X(I((2, 4), -9, 9), "int32"), X(U((2, 1)))], {}, "int32 x, f32 y -> float32")
    case("where", [X(B((2, 3)), "bool"), X(I((2, 3), 0, 9), "uint32"), X(I((2, 3), -9, 9), "int32")], {}, "uint32/int32 -> int32")
    case("where", [X(B((2, 3)), "bool"), X(B((2, 3)), "bool"), X(B((3,)), "bool")], {}, "bool x and y")
    case("where", [X(B((2, 3)), "bool"), X(U((2, 3)), "float16"), X(I((3,), -5, 5), "int32")], {}, "float16 with int32 -> float16")
    case("where", [X(B((0, 3)), "bool"), X(U((3,))), X(U((0, 3)))], {}, "empty")
    case("where", [X(B((4, 3)), "bool", T(1, 0)), X(U((3, 8)), view=S([N, N, N], [N, N, 2])), X(U((1, 4)), view=BC(3, 4))], {}, "non-contiguous cond, x and y")
    case("where", [X(B((5,)), "bool"), X([nan, inf, -inf, -0.0, 1.0]), X([1.0, 2.0, nan, 0.0, -0.0])], {}, "non-finite values pass through")
    case("where", [X(B((9, 17)), "bool"), X(U((9, 17))), X(U((17,)))], {}, "larger ragged")

    case("clip", [X(U((3, 4), -5, 5))], {"lo": -1.0, "hi": 2.5}, "lo and hi")
    case("clip", [X(U((3, 4), -5, 5))], {"lo": 0.0, "hi": None}, "lo only")
    case("clip", [X(U((3, 4), -5, 5))], {"lo": None, "hi": -1.5}, "hi only")
    case("clip", [X([nan, inf, -inf, -0.0, 0.5, 3.0, -3.0])], {"lo": -1.0, "hi": 1.0}, "nan passes through, infinities clipped")
    case("clip", [X(U(()))], {"lo": -0.5, "hi": 0.5}, "0-d")
    case("clip", [X(np.zeros((0, 2)))], {"lo": 0.0, "hi": 1.0}, "empty")
    case("clip", [X(U((5, 4), -5, 5), view=T(1, 0))], {"lo": -2.0, "hi": 2.0}, "transposed input")
    case("clip", [X(I((3, 4), -20, 20), "int32")], {"lo": -5, "hi": 7}, "int32")
    case("clip", [X(I((6,), 0, 100), "uint32")], {"lo": 10, "hi": 50}, "uint32")
    case("clip", [X(U((2, 5), -3, 3), "float16")], {"lo": -1.0, "hi": 0.5}, "float16")
    case("clip", [X(U((2, 3), -5, 5))], {"lo": 1.0, "hi": 1.0}, "lo == hi")

    src = {
        ("float32", "int32"): [-2.7, -1.5, -0.0, 0.4, 1.9, 3.0, -100000.5, 16777216.0, 2147483520.0, -2147483648.0],
        ("float32", "uint32"): [0.0, -0.0, 0.4, 1.9, 3.0, 100000.5, 4e9, 16777216.0],
        ("float32", "float16"): [0.1, 1.0 / 3.0, 65504.0, 65519.0, 65520.0, 1e5, -1e5, 6e-8, 1e-8, -0.0, nan, inf, -inf, 2049.0],
        ("float32", "bool"): [0.0, -0.0, nan, 0.5, -inf, 1e-30, -2.0],
        ("float32", "float32"): [0.1, -0.0, nan, inf, -inf, 1e30, 1.5e-38],
        ("float16", "int32"): [-2.7, -1.5, -0.0, 0.4, 1.9, 3.0, -2049.0, 65504.0, -65504.0],
        ("float16", "uint32"): [0.0, 0.4, 1.9, 3.0, 2049.0, 65504.0],
        ("float16", "float32"): [0.1, 1.0 / 3.0, 65504.0, 6.2e-5, -0.0, nan, inf, -inf],
        ("float16", "bool"): [0.0, -0.0, nan, 0.5, -inf, 6.2e-5],
        ("float16", "float16"): [0.1, -0.0, nan, inf, 65504.0],
        ("int32", "float32"): [16777217, -(2**31), 2**31 - 1, 0, -5, 123456789],
        ("int32", "float16"): [-2048, 2049, 0, 7, -5, 65504, 4097],
        ("int32", "uint32"): [-1, -(2**31), 5, 0, 2**31 - 1],
        ("int32", "bool"): [0, -3, 7, -(2**31)],
        ("int32", "int32"): [0, -3, 7, 2**31 - 1],
        ("uint32", "float32"): [2**32 - 1, 16777217, 0, 7, 2**31],
        ("uint32", "float16"): [0, 7, 2049, 65504, 1000],
        ("uint32", "int32"): [2**32 - 1, 2**31, 5, 0, 2**31 - 1],
        ("uint32", "bool"): [0, 1, 2**31, 2**32 - 1],
        ("uint32", "uint32"): [0, 1, 2**32 - 1],
    }
    for (s, t), vals in src.items():
        case("astype", [X(vals, s)], {"dtype": t}, f"{s} -> {t}")
    for t in DT:
        case("astype", [X([True, False, True], "bool")], {"dtype": t}, f"bool -> {t}")
    case("astype", [X(U((4, 3), -9, 9), view=T(1, 0))], {"dtype": "int32"}, "transposed f32 -> int32")
    case("astype", [X(I((2, 3, 2), -9, 9), "int32", view=S([N, N, -1], [N, N, 2]))], {"dtype": "float32"}, "sliced int32 -> float32")
    case("astype", [X(U(()))], {"dtype": "float16"}, "0-d f32 -> float16")
    case("astype", [X(np.zeros((0, 4)), "int32")], {"dtype": "float32"}, "empty")
    case("astype", [X(U((2, 3), 0, 9), "float16")], {"dtype": "uint32"}, "float16 -> uint32 2-D")
    case("astype", [X(U((3, 5), -100, 100, 4))], {"dtype": "float16"}, "f32 -> float16 rounding")


# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------

RED_AXES = [
    (None, False), (None, True), ([1], False), ([-1], True), ([0, 2], False),
    ([0, -1], True), ([0, 1, 2], False), ([2, 0], False), ([-2], False),
]


def red_data(op, shape, dt="float32"):
    if dt == "bool":
        return B(shape, 0.7 if op == "all" else 0.3)
    if dt == "int32":
        if op == "prod":
            return rng.choice([-2, -1, 1, 2, 3], size=shape)
        return I(shape, -20, 20)
    if dt == "uint32":
        if op == "prod":
            return I(shape, 1, 4)
        return I(shape, 0, 40)
    if op == "prod":
        return U(shape, 0.5, 1.5, 2)
    if op in ("all", "any"):
        return U(shape, -1, 1, 0) * (B(shape, 0.8) if op == "all" else B(shape, 0.15))
    return U(shape, -3, 3)


def reduction_cases(op, ddof=False):
    def P(axes, keep, d=None):
        p = {"axes": axes, "keepdims": keep}
        if ddof:
            p["ddof"] = d if d is not None else 0
        return p

    for i, (axes, keep) in enumerate(RED_AXES):
        d = (i % 2) if ddof else None
        case(op, [X(red_data(op, (3, 4, 5)))], P(axes, keep, d), f"(3,4,5) axes={axes} keepdims={keep}" + (f" ddof={d}" if ddof else ""))
    case(op, [X(red_data(op, (7,)))], P([0], False, 1), "1-D")
    case(op, [X(red_data(op, ()))], P(None, False), "0-d")
    case(op, [X(red_data(op, ()))], P(None, True), "0-d keepdims")
    case(op, [X(red_data(op, (3, 1, 4)))], P([1], False), "length-1 axis")
    case(op, [X(red_data(op, (3, 1, 4)))], P([1], True), "length-1 axis keepdims")
    case(op, [X(red_data(op, (5, 4, 3)), view=T(2, 1, 0))], P([1], False, 1), "transposed input")
    case(op, [X(red_data(op, (5, 4, 3)), view=T(2, 1, 0))], P(None, False), "transposed input, all axes")
    case(op, [X(red_data(op, (6, 5)), view=S([N, N, -2]))], P([0], True), "sliced input, step -2")
    case(op, [X(red_data(op, (1, 5)), view=BC(4, 5))], P([0], False), "broadcast (stride 0) input")
    case(op, [X(red_data(op, (300,)))], P(None, False), "1-D length 300")
    case(op, [X(red_data(op, (37, 41)))], P([1], False, 1), "(37,41) last axis")
    case(op, [X(red_data(op, (37, 41)))], P([0], False), "(37,41) first axis")
    case(op, [X(red_data(op, (2, 3, 4, 5)))], P([1, 3], False), "4-D two non-adjacent axes")
    case(op, [X(red_data(op, (4, 6)), "float16")], P([1], False), "float16")
    case(op, [X(red_data(op, (3, 4), "int32"), "int32")], P([0], False, 1), "int32")
    case(op, [X(red_data(op, (3, 4), "uint32"), "uint32")], P([1], True), "uint32")
    case(op, [X(red_data(op, (3, 4), "bool"), "bool")], P([1], False), "bool")
    if op in ("sum", "prod", "all", "any"):
        case(op, [X(red_data(op, (3, 0)))], P([1], False), "empty axis -> identity")
        case(op, [X(red_data(op, (0, 4)))], P([0], True), "empty axis keepdims -> identity")
        case(op, [X(red_data(op, (0,)))], P(None, False), "empty input, all axes -> identity")
        case(op, [X(red_data(op, (0, 4)))], P([1], False), "empty non-reduced dim")
        case(op, [X(red_data(op, (2, 0), "int32"), "int32")], P([1], False), "int32 empty axis")
        case(op, [X(red_data(op, (0,), "bool"), "bool")], P(None, False), "bool empty")


def reduction_extra():
    case("max", [X([[1.0, nan, 3.0], [-inf, -1.0, -2.0], [nan, nan, inf]])], {"axes": [1], "keepdims": False}, "nan propagates")
    case("min", [X([[1.0, nan, 3.0], [-inf, -1.0, -2.0], [nan, nan, inf]])], {"axes": [1], "keepdims": False}, "nan propagates")
    case("max", [X([[1.0, nan, 3.0], [inf, -1.0, -2.0]])], {"axes": None, "keepdims": False}, "nan propagates over all")
    case("min", [X([[1.0, 2.0, 3.0], [-inf, nan, -2.0]])], {"axes": [0], "keepdims": True}, "nan propagates axis 0")
    case("max", [X([-(2**31), -5, -(2**31) + 1], "int32")], {"axes": None, "keepdims": False}, "int32 all-negative")
    case("min", [X([2**32 - 1, 2**31, 2**31 + 5], "uint32")], {"axes": None, "keepdims": False}, "uint32 large values")
    case("sum", [X([inf, 1.0, -inf, nan, 1e30, 1e30])], {"axes": None, "keepdims": False}, "inf - inf = nan")
    case("sum", [X([1e38, 1e38, 1.0, 2.0])], {"axes": None, "keepdims": False}, "f32 overflow -> inf")
    case("sum", [X(U((1000,), -1, 1, 2))], {"axes": None, "keepdims": False}, "1-D length 1000")
    case("prod", [X([0.0, inf, 2.0, -1.0])], {"axes": None, "keepdims": False}, "0 * inf = nan")
    case("any", [X([0.0, -0.0, nan])], {"axes": None, "keepdims": False}, "nan is truthy")
    case("all", [X([[1.0, -0.0], [nan, 2.0]])], {"axes": [1], "keepdims": False}, "-0.0 is falsy, nan truthy")
    case("mean", [X([inf, 1.0, 2.0])], {"axes": None, "keepdims": False}, "inf")
    case("logsumexp", [X([[-inf, -inf, -inf], [-inf, 0.0, 1.0], [1000.0, 1000.0, -inf], [-1000.0, -1001.0, -1002.0]])], {"axes": [1], "keepdims": False}, "-inf entries, all -inf row, large magnitudes")
    case("logsumexp", [X([[-inf, -inf], [-inf, 2.0]])], {"axes": None, "keepdims": True}, "-inf entries over all")
    case("logsumexp", [X([[-inf, -inf, -inf], [0.5, -inf, 3.0]], "float16")], {"axes": [-1], "keepdims": True}, "float16 with -inf")
    case("var", [X([3.0, 4.0])], {"axes": None, "keepdims": False, "ddof": 1}, "two elements ddof=1")
    case("std", [X([[1e4 + 1, 1e4 + 2, 1e4 + 3]])], {"axes": [1], "keepdims": False, "ddof": 0}, "large mean, small variance")
    case("var", [X([[1.0, nan, 3.0], [1.0, 2.0, 3.0]])], {"axes": [1], "keepdims": False, "ddof": 0}, "nan propagates")


def arg_cases(op):
    def P(axis, keep):
        return {"axis": axis, "keepdims": keep}
    ties = lambda s: U(s, -2, 2, 0)
    case(op, [X(ties((3, 4)))], P(None, False), "ties, flattened")
    case(op, [X(ties((3, 4)))], P(None, True), "flattened keepdims")
    case(op, [X(ties((3, 4)))], P(0, False), "ties axis 0")
    case(op, [X(ties((3, 4)))], P(1, True), "ties axis 1 keepdims")
    case(op, [X(ties((2, 3, 4)))], P(-1, False), "3-D axis -1")
    case(op, [X(ties((2, 3, 4)))], P(1, False), "3-D axis 1")
    case(op, [X([2.0, 2.0, 2.0, 2.0])], P(0, False), "all equal -> 0")
    case(op, [X([[1.0, nan, 3.0, nan], [nan, 5.0, inf, -inf], [-inf, -inf, 2.0, 2.0]])], P(1, False), "first nan wins")
    case(op, [X([1.0, nan, 3.0, nan])], P(None, False), "first nan wins, flattened")
    case(op, [X([-inf, inf, -inf, inf])], P(None, False), "infinities")
    case(op, [X(U(()))], P(None, False), "0-d")
    case(op, [X(U((3, 1)))], P(1, False), "length-1 axis")
    case(op, [X(ties((5, 4)), view=T(1, 0))], P(1, False), "transposed input")
    case(op, [X(ties((8, 3)), view=S([N, N, -2]))], P(0, False), "sliced input step -2")
    case(op, [X(U((300,)))], P(0, False), "1-D length 300")
    case(op, [X(U((33, 65)))], P(1, False), "(33,65) axis 1")
    case(op, [X(U((33, 65)))], P(0, False), "(33,65) axis 0")
    case(op, [X(U((2, 6), -2, 2, 1), "float16")], P(1, False), "float16")
    case(op, [X(I((3, 5), -3, 3), "int32")], P(1, False), "int32 ties")
    case(op, [X([5, 2**32 - 1, 2**31, 0, 2**32 - 1], "uint32")], P(0, False), "uint32 large values")
    case(op, [X(B((3, 4)), "bool")], P(1, False), "bool")


def scan_cases(op):
    dat = (lambda s: U(s, -3, 3, 2)) if op == "cumsum" else (lambda s: rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0], size=s))
    case(op, [X(dat((3, 4)))], {"axis": None}, "2-D flattened")
    case(op, [X(dat((3, 4)))], {"axis": 0}, "axis 0")
    case(op, [X(dat((3, 4)))], {"axis": 1}, "axis 1")
    case(op, [X(dat((2, 3, 4)))], {"axis": -1}, "3-D axis -1")
    case(op, [X(dat((2, 3, 4)))], {"axis": 1}, "3-D axis 1")
    case(op, [X(dat(()))], {"axis": None}, "0-d flattened -> (1,)")
    case(op, [X(dat((0, 3)))], {"axis": 0}, "empty")
    case(op, [X(dat((5, 4)), view=T(1, 0))], {"axis": 1}, "transposed input")
    case(op, [X(dat((8, 3)), view=S([N, N, -2]))], {"axis": 0}, "sliced input step -2")
    case(op, [X(dat((8, 3)), view=S([1, N, 3]))], {"axis": None}, "sliced input flattened")
    case(op, [X([1.0, nan, 2.0, inf, -inf, 3.0])], {"axis": 0}, "nan and inf")
    if op == "cumsum":
        case(op, [X(I((1000,), -5, 6).astype(float))], {"axis": 0}, "1-D length 1000 (multi-workgroup)")
        case(op, [X(I((5, 300), -5, 6).astype(float))], {"axis": 1}, "(5,300) axis 1")
        case(op, [X(I((300, 3), -5, 6).astype(float))], {"axis": 0}, "(300,3) axis 0")
    else:
        case(op, [X(rng.choice([-1.0, 1.0], size=(600,)))], {"axis": 0}, "1-D length 600 of +-1")
        case(op, [X(rng.choice([-1.0, 1.0, 0.5, 2.0], size=(4, 300)))], {"axis": 1}, "(4,300) axis 1")
    case(op, [X(dat((2, 5)), "float16")], {"axis": 1}, "float16")
    case(op, [X(I((3, 4), -3, 4), "int32")], {"axis": 1}, "int32")
    case(op, [X(I((3, 4), 0, 4), "uint32")], {"axis": 0}, "uint32")
    case(op, [X(B((3, 4)), "bool")], {"axis": 1}, "bool -> int32")
    case(op, [X(B((3, 4)), "bool")], {"axis": None}, "bool flattened -> int32")


def softmax_cases(op):
    case(op, [X(U((3, 5)))], {"axes": [-1]}, "2-D last axis")
    case(op, [X(U((3, 5)))], {"axes": [0]}, "2-D axis 0")
    case(op, [X(U((2, 3, 4)))], {"axes": [1, 2]}, "3-D two axes")
    case(op, [X(U((2, 3, 4)))], {"axes": [0, 2]}, "3-D non-adjacent axes")
    case(op, [X(U((2, 3, 4)))], {"axes": [0, 1, 2]}, "all axes")
    case(op, [X(U((7,)))], {"axes": [0]}, "1-D")
    case(op, [X(U((1,)))], {"axes": [0]}, "single element")
    case(op, [X(U((4, 1)))], {"axes": [1]}, "length-1 axis")
    case(op, [X([[-inf, 0.0, 1.0], [-inf, -inf, 5.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1001.0, -1002.0]])], {"axes": [1]}, "-inf entries and large magnitudes")
    case(op, [X(np.zeros((0, 3)))], {"axes": [1]}, "empty")
    case(op, [X(U((5, 3)), view=T(1, 0))], {"axes": [1]}, "transposed input")
    case(op, [X(U((8, 4)), view=S([N, N, -2]))], {"axes": [0]}, "sliced input step -2")
    case(op, [X(U((9, 130), -10, 10))], {"axes": [-1]}, "(9,130) last axis")
    case(op, [X(U((2, 6)), "float16")], {"axes": [-1]}, "float16")


# ---------------------------------------------------------------------------
# shape manipulation
# ---------------------------------------------------------------------------

def shape_cases():
    a234 = lambda dt="float32": X(np.arange(24).reshape(2, 3, 4).astype(float) if dt != "bool" else B((2, 3, 4)), dt)
    for shp in ([6, 4], [4, -1], [-1], [24, 1], [2, 1, 3, 4], [3, 2, 2, 2]):
        case("reshape", [a234()], {"shape": shp}, f"(2,3,4) -> {shp}")
    case("reshape", [X(U(()))], {"shape": [1]}, "0-d -> (1,)")
    case("reshape", [X(U((1,)))], {"shape": []}, "(1,) -> 0-d")
    case("reshape", [X(U((1, 1)))], {"shape": [-1]}, "(1,1) -> -1")
    case("reshape", [X(np.zeros((0, 3)))], {"shape": [3, 0]}, "empty")
    case("reshape", [X(np.zeros((0, 3)))], {"shape": [-1, 3]}, "empty with -1")
    case("reshape", [X(U((4, 3)), view=T(1, 0))], {"shape": [2, 6]}, "transposed input (must copy)")
    case("reshape", [X(U((6, 5)), view=S([N, N, -2], [1, N, 2]))], {"shape": [-1]}, "sliced input")
    case("reshape", [a234("int32")], {"shape": [4, 6]}, "int32")
    case("reshape", [a234("bool")], {"shape": [12, 2]}, "bool")

    case("flatten", [X(U((2, 3)))], {}, "2-D")
    case("flatten", [X(U(()))], {}, "0-d -> (1,)")
    case("flatten", [X(U((4, 3)), view=T(1, 0))], {}, "transposed input")
    case("flatten", [X(np.zeros((2, 0, 3)))], {}, "empty")
    case("flatten", [X(U((4, 3, 5)), view=S([N, N, 2], [N, N, -1], [1, 4, N]))], {}, "3-D sliced input")
    case("flatten", [X(I((2, 3), 0, 9), "uint32")], {}, "uint32")

    case("transpose", [X(U((2, 3)))], {"axes": None}, "2-D default")
    case("transpose", [a234()], {"axes": None}, "3-D default (reverse)")
    case("transpose", [a234()], {"axes": [1, 0, 2]}, "[1,0,2]")
    case("transpose", [a234()], {"axes": [2, 0, 1]}, "[2,0,1]")
    case("transpose", [a234("int32")], {"axes": [0, 2, 1]}, "int32 [0,2,1]")
    case("transpose", [X(U((5,)))], {"axes": None}, "1-D")
    case("transpose", [X(U(()))], {"axes": None}, "0-d")
    case("transpose", [X(np.zeros((0, 3)))], {"axes": None}, "empty")
    case("transpose", [X(U((4, 3)), view=T(1, 0))], {"axes": [1, 0]}, "transposed input (round trip)")
    case("transpose", [X(U((2, 3, 4, 5)))], {"axes": [3, 1, 0, 2]}, "4-D")

    case("swapaxes", [a234()], {"axis1": 0, "axis2": 2}, "0 <-> 2")
    case("swapaxes", [a234()], {"axis1": -1, "axis2": 0}, "negative axis")
    case("swapaxes", [a234()], {"axis1": 1, "axis2": 1}, "same axis")
    case("swapaxes", [X(U((5, 4)), view=S([N, N, -2]))], {"axis1": 0, "axis2": 1}, "sliced input")
    case("swapaxes", [a234("bool")], {"axis1": 1, "axis2": 2}, "bool")

    case("moveaxis", [a234()], {"source": 0, "destination": -1}, "0 -> -1")
    case("moveaxis", [a234()], {"source": -1, "destination": 0}, "-1 -> 0")
    case("moveaxis", [a234()], {"source": 1, "destination": 2}, "1 -> 2")
    case("moveaxis", [X(U((4, 3, 2)), view=T(2, 1, 0))], {"source": 0, "destination": 1}, "transposed input")
    case("moveaxis", [a234("int32")], {"source": 2, "destination": 1}, "int32")

    case("expand_dims", [X(U((3,)))], {"axes": [0]}, "(3,) axes [0]")
    case("expand_dims", [X(U((3,)))], {"axes": [-1]}, "(3,) axes [-1]")
    case("expand_dims", [X(U((2, 3)))], {"axes": [0, 2]}, "two axes")
    case("expand_dims", [X(U((2, 3)))], {"axes": [1, -1]}, "positive and negative axes")
    case("expand_dims", [X(U(()))], {"axes": [0]}, "0-d")
    case("expand_dims", [X(np.zeros((0,)))], {"axes": [1]}, "empty")
    case("expand_dims", [X(U((3, 2)), view=T(1, 0))], {"axes": [1]}, "transposed input")

    case("squeeze", [X(U((1, 3, 1)))], {"axes": None}, "all unit axes")
    case("squeeze", [X(U((1, 3, 1)))], {"axes": [0]}, "axes [0]")
    case("squeeze", [X(U((1, 3, 1)))], {"axes": [-1]}, "axes [-1]")
    case("squeeze", [X(U((1, 3, 1)))], {"axes": [0, 2]}, "axes [0,2]")
    case("squeeze", [X(U((1,)))], {"axes": None}, "(1,) -> 0-d")
    case("squeeze", [X(U(()))], {"axes": None}, "0-d")
    case("squeeze", [X(U((2, 3)))], {"axes": None}, "nothing to squeeze")
    case("squeeze", [X(np.zeros((1, 0, 1)))], {"axes": None}, "empty")
    case("squeeze", [X(U((3, 1)), view=T(1, 0))], {"axes": [0]}, "transposed input")

    case("broadcast_to", [X(U((3,)))], {"shape": [2, 3]}, "(3,) -> (2,3)")
    case("broadcast_to", [X(U((3, 1)))], {"shape": [3, 4]}, "(3,1) -> (3,4)")
    case("broadcast_to", [X(U(()))], {"shape": [2, 2]}, "0-d -> (2,2)")
    case("broadcast_to", [X(U((1,)))], {"shape": [0]}, "-> empty")
    case("broadcast_to", [X(U((2, 1, 3)))], {"shape": [4, 2, 5, 3]}, "prepend and expand")
    case("broadcast_to", [X(U((3, 2)), view=T(1, 0))], {"shape": [2, 2, 3]}, "transposed input")
    case("broadcast_to", [X(U((2, 3)))], {"shape": [2, 3]}, "same shape")
    case("broadcast_to", [X(B((1, 3)), "bool")], {"shape": [2, 3]}, "bool")

    v10 = lambda: X(np.arange(10).astype(float))
    for sl in ([[2, 8, 2]], [[N, N, -1]], [[-3, N, N]], [[8, 2, -2]], [[N, 100, N]], [[-100, 3, N]],
               [[5, 2, N]], [[N, N, 3]], [[9, N, -4]], [[-1, -11, -1]], [[N, -20, -1]], [[100, N, -1]],
               [[-2, N, -3]], [[N, N, N]], [[3, 3, N]]):
        case("slice", [v10()], {"slices": sl}, f"1-D {sl[0]}")
    a45 = lambda: X(np.arange(20).reshape(4, 5).astype(float))
    case("slice", [a45()], {"slices": [[1, 3, N], [N, N, 2]]}, "2-D")
    case("slice", [a45()], {"slices": [[N, N, -2]]}, "fewer entries than ndim")
    case("slice", [a45()], {"slices": [[-1, N, -1], [-2, 0, -1]]}, "negative everything")
    case("slice", [X(np.arange(60).reshape(3, 4, 5).astype(float))], {"slices": [[N, N, N], [1, -1, N], [-1, N, -3]]}, "3-D")
    case("slice", [X(np.arange(60).reshape(3, 4, 5).astype(float))], {"slices": [[10, N, N]]}, "empty result")
    case("slice", [X(U((5, 4)), view=T(1, 0))], {"slices": [[N, N, 2], [4, 0, -2]]}, "transposed input")
    case("slice", [X(I((4, 5), -9, 9), "int32")], {"slices": [[1, N, 2], [N, 3, N]]}, "int32")
    case("slice", [X(B((6,)), "bool")], {"slices": [[N, N, -2]]}, "bool")

    case("concatenate", [X(U((2, 3))), X(U((2, 3)))], {"axis": 0}, "axis 0")
    case("concatenate", [X(U((2, 3))), X(U((2, 1)))], {"axis": 1}, "axis 1")
    case("concatenate", [X(U((2, 3))), X(U((2, 2)))], {"axis": -1}, "axis -1")
    case("concatenate", [X(U((1, 3))), X(U((3, 3))), X(U((2, 3)))], {"axis": 0}, "three inputs")
    case("concatenate", [X(U((2, 3))), X(np.zeros((0, 3))), X(U((1, 3)))], {"axis": 0}, "with empty piece")
    case("concatenate", [X(U((4,)))], {"axis": 0}, "single input")
    case("concatenate", [X(U((5,))), X(U((2,)))], {"axis": 0}, "1-D")
    case("concatenate", [X(I((2, 3), -5, 5), "int32"), X(U((1, 3)))], {"axis": 0}, "int32 + float32 -> float32")
    case("concatenate", [X(I((2,), 0, 9), "uint32"), X(I((3,), -5, 5), "int32")], {"axis": 0}, "uint32 + int32 -> int32")
    case("concatenate", [X(B((2,)), "bool"), X(I((3,), -5, 5), "int32")], {"axis": 0}, "bool + int32 -> int32")
    case("concatenate", [X(B((2,)), "bool"), X(B((3,)), "bool")], {"axis": 0}, "bool + bool")
    case("concatenate", [X(U((2,)), "float16"), X(I((2,), -5, 5), "int32")], {"axis": 0}, "float16 + int32 -> float16")
    case("concatenate", [X(U((2,)), "float16"), X(U((2,)))], {"axis": 0}, "float16 + float32 -> float32")
    case("concatenate", [X(U((3, 2)), view=T(1, 0)), X(U((2, 6)), view=S([N, N], [N, N, -2]))], {"axis": 1}, "non-contiguous inputs")
    case("concatenate", [X(U((2, 3, 2))), X(U((2, 1, 2)))], {"axis": 1}, "3-D middle axis")

    case("stack", [X(U((2, 3))), X(U((2, 3)))], {"axis": 0}, "axis 0")
    case("stack", [X(U((2, 3))), X(U((2, 3))), X(U((2, 3)))], {"axis": 1}, "axis 1")
    case("stack", [X(U((2, 3))), X(U((2, 3)))], {"axis": -1}, "axis -1")
    case("stack", [X(U((2, 3))), X(U((2, 3)))], {"axis": 2}, "axis 2 (= ndim)")
    case("stack", [X(U(())), X(U(())), X(U(()))], {"axis": 0}, "0-d inputs")
    case("stack", [X(np.zeros((0,))), X(np.zeros((0,)))], {"axis": 0}, "empty inputs")
    case("stack", [X(I((3,), -5, 5), "int32"), X(U((3,)))], {"axis": 0}, "int32 + float32 -> float32")
    case("stack", [X(I((3,), 0, 5), "uint32"), X(B((3,)), "bool")], {"axis": 1}, "uint32 + bool -> uint32")
    case("stack", [X(U((3, 2)), view=T(1, 0)), X(U((2, 6)), view=S([N, N], [N, N, 2]))], {"axis": 1}, "non-contiguous inputs")

    case("split", [X(U((6,)))], {"sections": 3, "axis": 0}, "equal sections")
    case("split", [X(U((6,)))], {"sections": [2, 4], "axis": 0}, "indices")
    case("split", [X(U((4, 6)))], {"sections": 2, "axis": 1}, "axis 1")
    case("split", [X(U((4, 6)))], {"sections": [1, 3], "axis": 0}, "indices axis 0")
    case("split", [X(U((4, 6)))], {"sections": [2, 2, 5], "axis": -1}, "repeated index -> empty piece")
    case("split", [X(U((5,)))], {"sections": [0, 10], "axis": 0}, "index 0 and out-of-range index")
    case("split", [X(U((3, 2)))], {"sections": 1, "axis": 0}, "one section")
    case("split", [X(I((6, 2), -5, 5), "int32")], {"sections": 3, "axis": 0}, "int32")
    case("split", [X(U((4, 6)), view=T(1, 0))], {"sections": [1, 4], "axis": 0}, "transposed input")
    case("split", [X(np.zeros((0, 4)))], {"sections": 2, "axis": 1}, "empty")

    case("pad", [X(U((3,)))], {"pad_width": [[1, 2]], "value": 0.0}, "1-D")
    case("pad", [X(U((2, 3)))], {"pad_width": [[1, 0], [2, 3]], "value": -1.5}, "2-D value -1.5")
    case("pad", [X(U((2, 3)))], {"pad_width": [[0, 0], [0, 0]], "value": 1.0}, "no padding")
    case("pad", [X(I((2, 2), -5, 5), "int32")], {"pad_width": [[1, 1], [0, 2]], "value": 7}, "int32")
    case("pad", [X(I((3,), 0, 5), "uint32")], {"pad_width": [[2, 0]], "value": 9}, "uint32")
    case("pad", [X(B((2,)), "bool")], {"pad_width": [[1, 1]], "value": 1}, "bool value 1 -> true")
    case("pad", [X(np.zeros((0, 2)))], {"pad_width": [[1, 1], [0, 1]], "value": 5.0}, "empty input")
    case("pad", [X(U((3, 2)), view=T(1, 0))], {"pad_width": [[1, 1], [1, 0]], "value": 0.0}, "transposed input")
    case("pad", [X(U((2, 3, 2)), "float16")], {"pad_width": [[0, 1], [1, 0], [1, 1]], "value": 0.5}, "3-D float16")

    case("tile", [X(U((3,)))], {"reps": [2]}, "1-D")
    case("tile", [X(U((2, 3)))], {"reps": [2, 1]}, "2-D reps [2,1]")
    case("tile", [X(U((2, 3)))], {"reps": [3]}, "reps shorter than ndim")
    case("tile", [X(U((3,)))], {"reps": [2, 2]}, "reps longer than ndim")
    case("tile", [X(U((2, 2)))], {"reps": [1, 0]}, "zero rep -> empty")
    case("tile", [X(U(()))], {"reps": [3]}, "0-d")
    case("tile", [X(U((3, 2)), view=T(1, 0))], {"reps": [2, 2]}, "transposed input")
    case("tile", [X(I((2,), -5, 5), "int32")], {"reps": [2, 1, 3]}, "int32")

    case("repeat", [X(U((3,)))], {"repeats": 2, "axis": None}, "1-D")
    case("repeat", [X(U((2, 3)))], {"repeats": 2, "axis": 0}, "axis 0")
    case("repeat", [X(U((2, 3)))], {"repeats": 3, "axis": 1}, "axis 1")
    case("repeat", [X(U((2, 3)))], {"repeats": 2, "axis": -1}, "axis -1")
    case("repeat", [X(U((2, 3)))], {"repeats": 2, "axis": None}, "axis null flattens")
    case("repeat", [X(U((2, 3)))], {"repeats": 0, "axis": 1}, "zero repeats -> empty")
    case("repeat", [X(U(()))], {"repeats": 3, "axis": None}, "0-d")
    case("repeat", [X(U((3, 2)), view=T(1, 0))], {"repeats": 2, "axis": 1}, "transposed input")
    case("repeat", [X(B((2, 2)), "bool")], {"repeats": 2, "axis": 0}, "bool")

    case("flip", [X(U((2, 3)))], {"axes": None}, "all axes")
    case("flip", [X(U((2, 3)))], {"axes": [0]}, "axis 0")
    case("flip", [X(U((2, 3)))], {"axes": [1]}, "axis 1")
    case("flip", [X(U((2, 3)))], {"axes": [-1, 0]}, "both axes, negative")
    case("flip", [a234()], {"axes": [0, 2]}, "3-D")
    case("flip", [X(U(()))], {"axes": None}, "0-d")
    case("flip", [X(np.zeros((0, 3)))], {"axes": [0]}, "empty")
    case("flip", [X(U((5, 4)), view=S([N, N, -2]))], {"axes": [0]}, "sliced (already reversed) input")
    case("flip", [X(I((7,), -9, 9), "int32")], {"axes": None}, "int32 odd length")

    sq = lambda: X(np.arange(9).reshape(3, 3).astype(float))
    case("diagonal", [sq()], {"offset": 0, "axis1": 0, "axis2": 1}, "3x3")
    case("diagonal", [X(U((3, 4)))], {"offset": 1, "axis1": 0, "axis2": 1}, "offset 1")
    case("diagonal", [X(U((4, 3)))], {"offset": -1, "axis1": 0, "axis2": 1}, "offset -1")
    case("diagonal", [X(U((4, 3)))], {"offset": -2, "axis1": 0, "axis2": 1}, "offset -2")
    case("diagonal", [sq()], {"offset": 5, "axis1": 0, "axis2": 1}, "offset beyond -> empty")
    case("diagonal", [X(U((2, 3, 4)))], {"offset": 0, "axis1": 1, "axis2": 2}, "3-D last two axes")
    case("diagonal", [X(U((2, 3, 4)))], {"offset": 0, "axis1": 0, "axis2": 2}, "3-D axes 0,2")
    case("diagonal", [X(U((2, 3, 4)))], {"offset": 1, "axis1": 2, "axis2": 0}, "3-D reversed axes, offset 1")
    case("diagonal", [X(U((2, 3, 4)))], {"offset": -1, "axis1": -1, "axis2": -2}, "negative axes")
    case("diagonal", [X(U((4, 5)), view=T(1, 0))], {"offset": 1, "axis1": 0, "axis2": 1}, "transposed input")
    case("diagonal", [X(I((3, 3), -9, 9), "int32")], {"offset": 0, "axis1": 1, "axis2": 0}, "int32, axes swapped")

    case("trace", [sq()], {"offset": 0, "axis1": 0, "axis2": 1}, "3x3")
    case("trace", [X(U((3, 4)))], {"offset": 1, "axis1": 0, "axis2": 1}, "offset 1")
    case("trace", [X(U((4, 3)))], {"offset": -2, "axis1": 0, "axis2": 1}, "offset -2")
    case("trace", [sq()], {"offset": 4, "axis1": 0, "axis2": 1}, "offset beyond -> 0")
    case("trace", [X(U((2, 3, 4)))], {"offset": 0, "axis1": 1, "axis2": 2}, "3-D")
    case("trace", [X(U((2, 3, 4)))], {"offset": 1, "axis1": 0, "axis2": 2}, "3-D axes 0,2")
    case("trace", [X(U((4, 5)), view=T(1, 0))], {"offset": 0, "axis1": 0, "axis2": 1}, "transposed input")
    case("trace", [X(I((3, 3), -9, 9), "int32")], {"offset": 0, "axis1": 0, "axis2": 1}, "int32")
    case("trace", [X(B((3, 3)), "bool")], {"offset": 0, "axis1": 0, "axis2": 1}, "bool -> int32")
    case("trace", [X(I((3, 3), 0, 9), "uint32")], {"offset": -1, "axis1": 0, "axis2": 1}, "uint32")
    case("trace", [X(U((3, 3)), "float16")], {"offset": 0, "axis1": 0, "axis2": 1}, "float16")


# ---------------------------------------------------------------------------
# indexing
# ---------------------------------------------------------------------------

def index_cases():
    def a(shape, dt="float32"):
        return X(B(shape) if dt == "bool" else np.arange(int(np.prod(shape))).reshape(shape), dt)

    ix = lambda v: X(v, "int32")
    case("take", [a((3, 4)), ix([[0, 11], [-1, 5]])], {"axis": None}, "axis null flattens, negative index")
    case("take", [a((3, 4)), ix([2, 0, -1, 1, 0])], {"axis": 0}, "axis 0, repeats and negative")
    case("take", [a((3, 4)), ix([3, -4, 1])], {"axis": 1}, "axis 1")
    case("take", [a((2, 3, 4)), ix([[0, 1], [-1, -2]])], {"axis": -1}, "axis -1, 2-D indices")
    case("take", [a((2, 3, 4)), ix([2, 0])], {"axis": 1}, "3-D middle axis")
    case("take", [a((3, 4)), ix(1)], {"axis": 0}, "0-d index removes axis")
    case("take", [a((3, 4)), ix(-1)], {"axis": None}, "0-d index, flattened")
    case("take", [a((3, 4)), ix(np.zeros((0,), dtype=int))], {"axis": 1}, "empty indices")
    case("take", [X(U((4, 3)), view=T(1, 0)), ix([3, 0, -1])], {"axis": 1}, "transposed input")
    case("take", [a((3, 4), "int32"), ix([1, -3])], {"axis": 1}, "int32 data")
    case("take", [a((3, 4), "bool"), ix([0, 2])], {"axis": 0}, "bool data")
    case("take", [a((5,), "float16"), ix([4, 0, -2])], {"axis": 0}, "float16 data")
    case("take", [a((200,)), ix(I((50,), -200, 200))], {"axis": 0}, "length 200, random indices")

    case("take_along_axis", [X(U((3, 4))), ix(I((3, 2), 0, 4))], {"axis": 1}, "axis 1")
    case("take_along_axis", [X(U((3, 4))), ix(I((5, 4), 0, 3))], {"axis": 0}, "axis 0, more indices than axis length")
    case("take_along_axis", [X(U((3, 4))), ix(I((1, 2), 0, 4))], {"axis": 1}, "indices broadcast on non-axis dim")
    case("take_along_axis", [X(U((2, 3, 4))), ix(I((1, 3, 2), 0, 4))], {"axis": -1}, "3-D axis -1 broadcast")
    case("take_along_axis", [X(U((2, 3, 4))), ix(I((2, 5, 1), 0, 3))], {"axis": 1}, "3-D axis 1 broadcast last dim")
    x = U((3, 5))
    case("take_along_axis", [X(x), ix(np.argsort(x, axis=1, kind="stable"))], {"axis": 1}, "argsort indices")
    case("take_along_axis", [X(U((5, 3)), view=T(1, 0)), ix(I((3, 2), 0, 5))], {"axis": 1}, "transposed input")
    case("take_along_axis", [X(I((3, 4), -9, 9), "int32"), ix(I((3, 1), 0, 4))], {"axis": 1}, "int32 data")
    case("take_along_axis", [X(U((3, 4))), ix(np.zeros((3, 0), dtype=int))], {"axis": 1}, "empty indices")
    case("take_along_axis", [X(U((6,))), ix([5, 0, 0, 3])], {"axis": 0}, "1-D")

    half = lambda s: rng.integers(-6, 7, size=s) / 2.0
    case("scatter_add", [X(np.zeros((3, 4))), ix([[0, 1, 1, 3, 1], [2, 2, 2, 2, 2], [0, 1, 2, 3, 0]]), X(half((3, 5)))], {"axis": 1}, "axis 1, repeated indices accumulate")
    case("scatter_add", [X(half((3, 4))), ix(I((5, 4), 0, 3)), X(half((5, 4)))], {"axis": 0}, "axis 0, onto non-zero base")
    case("scatter_add", [X(half((3, 4))), ix(I((1, 6), 0, 4)), X(half((1, 6)))], {"axis": 1}, "indices/updates broadcast on non-axis dim")
    case("scatter_add", [X(half((3, 4))), ix(I((3, 6), 0, 4)), X(half((1, 6)))], {"axis": 1}, "updates broadcast to indices")
    case("scatter_add", [X(half((2, 3, 4))), ix(I((2, 3, 3), 0, 4)), X(half((2, 3, 3)))], {"axis": -1}, "3-D axis -1")
    case("scatter_add", [X(half((2, 3, 4))), ix(I((1, 5, 4), 0, 3)), X(half((1, 5, 1)))], {"axis": 1}, "3-D axis 1 with broadcasting")
    case("scatter_add", [X(np.zeros((5,))), ix(I((40,), 0, 5)), X(half((40,)))], {"axis": 0}, "1-D many collisions")
    case("scatter_add", [X(half((4, 3)), view=T(1, 0)), ix(I((3, 2), 0, 4)), X(half((3, 2)))], {"axis": 1}, "transposed base")
    case("scatter_add", [X(I((3, 4), -9, 9), "int32"), ix(I((3, 6), 0, 4)), X(I((3, 6), -9, 9), "int32")], {"axis": 1}, "int32")
    case("scatter_add", [X(half((3, 4))), ix(np.zeros((3, 0), dtype=int)), X(np.zeros((3, 0)))], {"axis": 1}, "empty indices -> copy")
    case("scatter_add", [X(np.zeros((16, 8))), ix(I((200, 8), 0, 16)), X(half((200, 8)))], {"axis": 0}, "(200,8) updates into (16,8)")


# ---------------------------------------------------------------------------
# linear algebra
# ---------------------------------------------------------------------------

def linalg_cases():
    M = lambda s, dt="float32": X(U(s, -1, 1, 2) if dt in FLOATS else I(s, -5, 6), dt)
    case("matmul", [M((3, 4)), M((4, 5))], {}, "2-D")
    case("matmul", [M((4,)), M((4,))], {}, "1-D . 1-D -> 0-d")
    case("matmul", [M((4,)), M((4, 3))], {}, "1-D @ 2-D")
    case("matmul", [M((3, 4)), M((4,))], {}, "2-D @ 1-D")
    case("matmul", [M((2, 3, 4)), M((2, 4, 5))], {}, "batched")
    case("matmul", [M((2, 1, 3, 4)), M((3, 4, 2))], {}, "broadcast batch dims")
    case("matmul", [M((5, 3, 4)), M((4, 2))], {}, "batched @ 2-D")
    case("matmul", [M((4,)), M((2, 4, 3))], {}, "1-D @ batched")
    case("matmul", [M((2, 3, 4)), M((4,))], {}, "batched @ 1-D")
    case("matmul", [X(U((4, 3), -1, 1, 2), view=T(1, 0)), X(U((5, 4), -1, 1, 2), view=T(1, 0))], {}, "both transposed views")
    case("matmul", [X(U((6, 4), -1, 1, 2), view=S([N, N, 2])), X(U((4, 10), -1, 1, 2), view=S([N, N, -1], [N, N, 2]))], {}, "sliced views")
    case("matmul", [X(U((2, 4, 3), -1, 1, 2), view=T(0, 2, 1)), M((2, 4, 5))], {}, "batched transposed view")
    case("matmul", [X(U((1, 3, 4), -1, 1, 2), view=BC(2, 3, 4)), M((2, 4, 2))], {}, "broadcast view as batch")
    case("matmul", [M((33, 65)), M((65, 31))], {}, "ragged (33,65)@(65,31)")
    case("matmul", [M((67, 70)), M((70, 66))], {}, "ragged (67,70)@(70,66)")
    case("matmul", [M((1, 70)), M((70, 1))], {}, "(1,70)@(70,1)")
    case("matmul", [M((17, 1)), M((1, 19))], {}, "K=1")
    case("matmul", [M((3, 0)), M((0, 4))], {}, "empty K -> zeros")
    case("matmul", [M((0, 4)), M((4, 3))], {}, "empty M")
    case("matmul", [M((2, 0, 3, 4)), M((4, 2))], {}, "empty batch")
    case("matmul", [M((3, 4), "int32"), M((4, 2), "int32")], {}, "int32")
    case("matmul", [M((2, 5, 7), "int32"), M((7, 3), "int32")], {}, "int32 batched")
    case("matmul", [M((4, 8), "float16"), M((8, 3), "float16")], {}, "float16")
    case("matmul", [M((3, 4), "int32"), M((4, 2))], {}, "int32 @ float32 -> float32")
    case("matmul", [M((3, 5, 9)), M((1, 9, 4))], {}, "batch broadcast 3 vs 1")

    case("outer", [M((3,)), M((4,))], {}, "1-D")
    case("outer", [M((2, 2)), M((3,))], {}, "2-D input flattened")
    case("outer", [M(()), M((3,))], {}, "0-d input")
    case("outer", [M((3,), "int32"), M((2,), "int32")], {}, "int32")
    case("outer", [M((0,)), M((3,))], {}, "empty")
    case("outer", [X(U((3, 2), -1, 1, 2), view=T(1, 0)), M((2,))], {}, "transposed input")

    case("inner", [M((5,)), M((5,))], {}, "1-D -> 0-d")
    case("inner", [M((2, 3)), M((4, 3))], {}, "2-D")
    case("inner", [M((2, 3, 4)), M((4,))], {}, "3-D with 1-D")
    case("inner", [M((3,), "int32"), M((2, 3), "int32")], {}, "int32")
    case("inner", [M((2, 0)), M((3, 0))], {}, "empty contraction -> zeros")
    case("inner", [X(U((3, 2), -1, 1, 2), view=T(1, 0)), M((3,))], {}, "transposed input")

    case("tensordot", [M((3, 4)), M((4, 5))], {"axes": 1}, "axes=1")
    case("tensordot", [M((2, 3, 4)), M((3, 4, 5))], {"axes": 2}, "axes=2")
    case("tensordot", [M((2, 3)), M((4,))], {"axes": 0}, "axes=0 (outer)")
    case("tensordot", [M((3, 4)), M((5, 3))], {"axes": [[0], [1]]}, "[[0],[1]]")
    case("tensordot", [M((2, 3, 4)), M((3, 2, 5))], {"axes": [[0, 1], [1, 0]]}, "[[0,1],[1,0]]")
    case("tensordot", [M((4, 3, 2)), M((5, 2, 4))], {"axes": [[2, 0], [1, 2]]}, "[[2,0],[1,2]]")
    case("tensordot", [M((3, 4), "int32"), M((4, 2), "int32")], {"axes": 1}, "int32")
    case("tensordot", [X(U((4, 3), -1, 1, 2), view=T(1, 0)), M((4, 2))], {"axes": [[1], [0]]}, "transposed input")
    case("tensordot", [M((3, 4)), M((3, 4))], {"axes": [[-1, 0], [1, 0]]}, "negative axes, full contraction")


# ---------------------------------------------------------------------------
# sorting
# ---------------------------------------------------------------------------

def sort_cases(op):
    case(op, [X([3.0, nan, -1.0, inf, -inf, 2.0, nan, 0.5, 2.0])], {"axis": 0}, "nan last, inf, ties")
    case(op, [X(U((3, 5), -2, 2, 0))], {"axis": -1}, "2-D last axis with ties")
    case(op, [X(U((3, 5), -2, 2, 0))], {"axis": 0}, "2-D axis 0 with ties")
    case(op, [X(U((3, 5), -2, 2, 0))], {"axis": None}, "axis null flattens")
    case(op, [X(U((2, 3, 4)))], {"axis": 1}, "3-D middle axis")
    case(op, [X(U((7,)))], {"axis": 0}, "odd length 7")
    case(op, [X(U((1,)))], {"axis": 0}, "single element")
    case(op, [X(U(()))], {"axis": None}, "0-d flattened -> (1,)")
    case(op, [X(np.zeros((0, 3)))], {"axis": 0}, "empty")
    case(op, [X(np.zeros((3, 0)))], {"axis": -1}, "empty axis")
    case(op, [X(U((5, 4), -2, 2, 0), view=T(1, 0))], {"axis": 1}, "transposed input")
    case(op, [X(U((9, 3)), view=S([N, N, -2]))], {"axis": 0}, "sliced input step -2")
    case(op, [X(np.round(rng.standard_normal(1000), 2))], {"axis": 0}, "1-D length 1000")
    case(op, [X(np.round(rng.standard_normal(3000), 1))], {"axis": 0}, "1-D length 3000, many ties")
    case(op, [X(U((37, 129), -5, 5, 1))], {"axis": -1}, "(37,129) last axis")
    case(op, [X(U((129, 5)))], {"axis": 0}, "(129,5) axis 0")
    case(op, [X(U((2, 7), -2, 2, 1), "float16")], {"axis": 1}, "float16")
    case(op, [X([nan, 1.0, nan, -inf, 0.5], "float16")], {"axis": 0}, "float16 with nan")
    case(op, [X(I((3, 6), -5, 5), "int32")], {"axis": 1}, "int32 with ties")
    case(op, [X([5, -(2**31), 2**31 - 1, 0, -1, 5], "int32")], {"axis": 0}, "int32 extremes")
    case(op, [X([5, 2**32 - 1, 2**31, 0, 2**31 - 1, 7, 5], "uint32")], {"axis": 0}, "uint32 large values (unsigned order)")
    case(op, [X(B((2, 6)), "bool")], {"axis": 1}, "bool")


def topk_cases():
    case("topk", [X(U((10,)))], {"k": 3, "axis": 0}, "1-D k=3")
    case("topk", [X(U((10,)))], {"k": 1, "axis": -1}, "k=1")
    case("topk", [X(U((7,)))], {"k": 7, "axis": 0}, "k=n (full descending sort)")
    case("topk", [X(U((7,)))], {"k": 0, "axis": 0}, "k=0 -> empty")
    case("topk", [X([1.0, 3.0, 3.0, 2.0, 3.0, -inf, inf, 1.0])], {"k": 4, "axis": 0}, "ties: lower index first, infinities")
    case("topk", [X(U((3, 8), -2, 2, 0))], {"k": 3, "axis": -1}, "2-D last axis with ties")
    case("topk", [X(U((8, 3), -2, 2, 0))], {"k": 2, "axis": 0}, "2-D axis 0 with ties")
    case("topk", [X(U((2, 6, 3)))], {"k": 4, "axis": 1}, "3-D middle axis")
    case("topk", [X(U((6, 4)), view=T(1, 0))], {"k": 2, "axis": 1}, "transposed input")
    case("topk", [X(U((10, 3)), view=S([N, N, -2]))], {"k": 3, "axis": 0}, "sliced input")
    case("topk", [X(np.round(rng.standard_normal(1000), 2))], {"k": 10, "axis": 0}, "1-D length 1000, k=10")
    case("topk", [X(U((5, 300), -9, 9, 2))], {"k": 5, "axis": 1}, "(5,300) k=5")
    case("topk", [X(U((2, 9), -2, 2, 1), "float16")], {"k": 3, "axis": 1}, "float16")
    case("topk", [X(I((3, 7), -4, 4), "int32")], {"k": 3, "axis": 1}, "int32 with ties")
    case("topk", [X([5, -(2**31), 2**31 - 1, 0, -1], "int32")], {"k": 2, "axis": 0}, "int32 extremes")
    case("topk", [X([5, 2**32 - 1, 2**31, 0, 2**31 - 1], "uint32")], {"k": 3, "axis": 0}, "uint32 large values")
    case("topk", [X([-0.0, 0.0, -1.0, 0.0])], {"k": 2, "axis": 0}, "-0.0 ties 0.0 (lower index first)")


# ---------------------------------------------------------------------------
# creation / triangular
# ---------------------------------------------------------------------------

def creation_cases():
    for dt in DT:
        case("zeros", [], {"shape": [2, 3], "dtype": dt}, dt)
        case("ones", [], {"shape": [3], "dtype": dt}, dt)
    for shp in ([], [0], [2, 0, 3], [4, 1, 2]):
        case("zeros", [], {"shape": shp, "dtype": "float32"}, f"shape {shp}")
        case("ones", [], {"shape": shp, "dtype": "int32"}, f"shape {shp}")
    case("full", [], {"shape": [2, 3], "value": 2.5, "dtype": "float32"}, "float32")
    case("full", [], {"shape": [], "value": -1.25, "dtype": "float32"}, "0-d")
    case("full", [], {"shape": [3], "value": 0.1, "dtype": "float16"}, "float16 rounding")
    case("full", [], {"shape": [2, 2], "value": -7, "dtype": "int32"}, "int32")
    case("full", [], {"shape": [2], "value": 4000000000, "dtype": "uint32"}, "uint32 large")
    case("full", [], {"shape": [3], "value": 1, "dtype": "bool"}, "bool from 1")
    case("full", [], {"shape": [3], "value": 0, "dtype": "bool"}, "bool from 0")
    case("full", [], {"shape": [0, 2], "value": 3.0, "dtype": "float32"}, "empty")
    case("full", [], {"shape": [4], "value": 1e30, "dtype": "float32"}, "large value")

    for st, sp_, stp, dt in [(0, 10, 1, "int32"), (10, 0, -3, "int32"), (-5, 5, 2, "int32"), (5, 5, 1, "int32"),
                             (5, 0, 1, "int32"), (3, 20, 4, "uint32"), (0, 1, 0.1, "float32"), (-1, 1, 0.25, "float32"),
                             (2.5, -2.5, -0.5, "float32"), (0, 5, 1, "float16"), (0.5, 3, 0.75, "float32"), (0, 300, 1, "float32"),
                             (1, 2, 0.3, "float32"), (0, 0, 1, "float32")]:
        case("arange", [], {"start": st, "stop": sp_, "step": stp, "dtype": dt}, f"{st}..{sp_} step {stp} {dt}")

    for st, sp_, n, ep in [(0, 1, 5, True), (0, 1, 5, False), (-3, 7, 11, True), (2, 2, 3, True), (0, 1, 1, True),
                           (0, 1, 1, False), (0, 1, 0, True), (1, -1, 4, False), (0, 100, 257, True), (-1e3, 1e3, 2, True),
                           (0.1, 0.7, 7, True)]:
        case("linspace", [], {"start": st, "stop": sp_, "num": n, "endpoint": ep}, f"{st}..{sp_} num={n} endpoint={ep}")

    for op in ("eye", "tri"):
        for n, m, k, dt in [(3, None, 0, "float32"), (3, 5, 1, "int32"), (4, 2, -1, "bool"), (0, None, 0, "float32"),
                            (5, None, -6, "float32"), (1, None, 0, "uint32"), (3, 4, 0, "float16"), (4, 3, 2, "float32"),
                            (2, 0, 0, "int32")]:
            case(op, [], {"n": n, "m": m, "k": k, "dtype": dt}, f"n={n} m={m} k={k} {dt}")

    for op in ("tril", "triu"):
        case(op, [X(U((4, 4)))], {"k": 0}, "square")
        case(op, [X(U((3, 5)))], {"k": 1}, "wide k=1")
        case(op, [X(U((5, 3)))], {"k": -1}, "tall k=-1")
        case(op, [X(U((3, 3)))], {"k": 5}, "k beyond")
        case(op, [X(U((3, 3)))], {"k": -5}, "k beyond negative")
        case(op, [X(U((2, 3, 4)))], {"k": 0}, "batched 3-D")
        case(op, [X(U((2, 2, 3, 3)))], {"k": -1}, "batched 4-D")
        case(op, [X(I((3, 4), -9, 9), "int32")], {"k": 0}, "int32")
        case(op, [X(B((3, 3)), "bool")], {"k": 0}, "bool")
        case(op, [X(U((4, 3)), view=T(1, 0))], {"k": 0}, "transposed input")
        case(op, [X(np.zeros((0, 3)))], {"k": 0}, "empty")
        case(op, [X([[nan, inf], [-inf, nan]])], {"k": 0}, "non-finite values")


# ---------------------------------------------------------------------------
# random.json (JAX)
# ---------------------------------------------------------------------------

def random_cases():
    import jax
    import jax.numpy as jnp

    def key(seed):
        return jax.random.PRNGKey(seed)

    def npt(a):
        return tensor(np.asarray(a))

    out = []

    def add(op, params, expected, args=None):
        c = {"op": op, "params": params}
        if args is not None:
            c["args"] = args
        c["expected"] = npt(expected)
        out.append(c)

    for seed in (0, 1, 42, 1234, 2**31 + 5, 2**32 - 1, 2**32 + 7):
        add("key", {"seed": seed}, jax.random.key_data(key(seed)).astype(jnp.uint32))
    for seed, num in ((0, 2), (42, 3), (7, 1), (1, 5), (0, 10), (2**32 + 7, 4)):
        add("split", {"seed": seed, "num": num}, jax.random.key_data(jax.random.split(key(seed), num)))
    for seed, shape in ((0, []), (0, [1]), (0, [7]), (42, [3, 5]), (1, [257]), (3, [2, 3, 4]), (9, [0]), (5, [300])):
        add("bits", {"seed": seed, "shape": shape}, jax.random.bits(key(seed), tuple(shape), dtype=jnp.uint32))
    for seed, shape, lo, hi in ((0, [5], 0.0, 1.0), (42, [3, 5], -2.0, 3.0), (1, [], 0.0, 1.0), (2, [257], 0.0, 1.0),
                                (3, [2, 3, 4], -1.0, 1.0), (4, [6], 10.0, 10.5)):
        add("uniform", {"seed": seed, "shape": shape, "minval": lo, "maxval": hi},
            jax.random.uniform(key(seed), tuple(shape), dtype=jnp.float32, minval=lo, maxval=hi))
    for seed, shape in ((0, [5]), (42, [3, 5]), (1, []), (2, [257]), (3, [2, 3, 4]), (7, [300])):
        add("normal", {"seed": seed, "shape": shape}, jax.random.normal(key(seed), tuple(shape), dtype=jnp.float32))
    for seed, shape, lo, hi in ((0, [10], 0, 10), (42, [3, 5], -5, 5), (1, [257], 0, 1000), (2, [7], -(2**31), 2**31 - 1),
                                (3, [4], 0, 1), (4, [2, 3], 3, 1000003), (5, [], -100, 100), (6, [300], -(2**31), 2**31 - 1)):
        add("randint", {"seed": seed, "shape": shape, "minval": lo, "maxval": hi},
            jax.random.randint(key(seed), tuple(shape), lo, hi, dtype=jnp.int32))
    for seed, p, shape in ((0, 0.5, [10]), (42, 0.1, [3, 5]), (1, 0.0, [6]), (2, 1.0, [6]), (3, 0.73, [257]), (4, 0.5, [])):
        add("bernoulli", {"seed": seed, "p": p, "shape": shape}, jax.random.bernoulli(key(seed), p, tuple(shape)))
    cat = [
        (0, -1, None, U((3, 5), -2, 2, 2)),
        (42, 0, None, U((4, 3), -2, 2, 2)),
        (1, -1, [2, 3], U((3, 5), -2, 2, 2)),
        (2, -1, None, np.array([[0.0, -inf, 1.0, -inf], [-inf, -inf, -inf, 0.0]])),
        (3, 0, None, U((7,), -1, 1, 2)),
        (4, -1, [6], U((4,), -1, 1, 2)),
        (5, 1, None, U((2, 4, 3), -2, 2, 2)),
    ]
    for seed, axis, shape, logits in cat:
        lg = np.asarray(logits, dtype=np.float32)
        res = jax.random.categorical(key(seed), jnp.asarray(lg), axis=axis, shape=None if shape is None else tuple(shape))
        add("categorical", {"seed": seed, "axis": axis, "shape": shape}, np.asarray(res).astype(np.int32), args=[tensor(lg)])
    for seed, n in ((0, 10), (42, 1000), (1, 3000), (2, 1), (3, 257), (4, 2)):
        add("permutation", {"seed": seed, "n": n}, np.asarray(jax.random.permutation(key(seed), n)).astype(np.int32))
    for seed, data in ((0, 0), (0, 1), (42, 7), (1, 2**31), (2**32 + 7, 2**32 - 1)):
        add("fold_in", {"seed": seed, "data": data}, jax.random.key_data(jax.random.fold_in(key(seed), data)))
    for seed, shape in ((0, [5]), (42, [3, 5]), (1, []), (2, [257])):
        add("gumbel", {"seed": seed, "shape": shape}, jax.random.gumbel(key(seed), tuple(shape), dtype=jnp.float32))
    return out


# ---------------------------------------------------------------------------

def main():
    for op in UNARY:
        unary_cases(op)
    for op in BINARY_OPS:
        binary_cases(op)
    binary_edge_cases()
    where_clip_astype_cases()
    for op in ("sum", "mean", "prod", "max", "min", "all", "any", "logsumexp"):
        reduction_cases(op)
    for op in ("var", "std"):
        reduction_cases(op, ddof=True)
    reduction_extra()
    for op in ("argmax", "argmin"):
        arg_cases(op)
    for op in ("cumsum", "cumprod"):
        scan_cases(op)
    for op in ("softmax", "log_softmax"):
        softmax_cases(op)
    shape_cases()
    index_cases()
    linalg_cases()
    for op in ("sort", "argsort"):
        sort_cases(op)
    topk_cases()
    creation_cases()
    added_op_cases()
    composite_op_cases()

    os.makedirs(OUT_DIR, exist_ok=True)
    ops_path = os.path.join(OUT_DIR, "ops.json")
    with open(ops_path, "w") as f:
        json.dump({"cases": CASES}, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")

    rnd = random_cases()
    rnd_path = os.path.join(OUT_DIR, "random.json")
    with open(rnd_path, "w") as f:
        json.dump({"cases": rnd}, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")

    counts = Counter(c["op"] for c in CASES)
    print(f"ops.json: {len(CASES)} cases, {os.path.getsize(ops_path)} bytes")
    print("  " + ", ".join(f"{k}:{v}" for k, v in counts.items()))
    rc = Counter(c["op"] for c in rnd)
    print(f"random.json: {len(rnd)} cases, {os.path.getsize(rnd_path)} bytes")
    print("  " + ", ".join(f"{k}:{v}" for k, v in rc.items()))


if __name__ == "__main__":
    main()
