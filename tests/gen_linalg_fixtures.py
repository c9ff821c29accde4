#!/usr/bin/env python3
"""Regenerate ``fixtures/linalg.json``: numpy.linalg results (float64, from
the exact float32 inputs) for kiln::linalg's values that do not depend on a
sign or basis convention: determinants, singular values, eigenvalues,
inverses, solutions, pseudo-inverses, least squares, norms, condition
numbers, ranks, matrix powers and cross products.

Deterministic (fixed seed). Run from the repository root:

    python3 tests/gen_linalg_fixtures.py

Each case: ``{"op", "params", "inputs": [tensor], "outputs": [tensor],
"scale"}`` with tensors as in ``gen_fixtures.py`` (``{"dtype", "shape",
"data"}``); ``scale`` is the size of the values the outputs are computed
from (||A|| or the largest singular value), for backward-error tolerances.
"""

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "linalg.json")
rng = np.random.default_rng(5)


def f32(shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def symmetric(shape):
    x = f32(shape)
    return ((x + np.swapaxes(x, -1, -2)) / 2).astype(np.float32)


def rank_deficient(m, n, r):
    return (f32((m, r)).astype(np.float64) @ f32((r, n)).astype(np.float64)).astype(np.float32)


def number(x):
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def tensor(a, dtype=None):
    a = np.asarray(a)
    dtype = dtype or ("int32" if a.dtype.kind in "iu" else "float32")
    return {
        "dtype": dtype,
        "shape": list(a.shape),
        "data": [number(v) for v in a.reshape(-1)],
    }


cases = []


def case(op, inputs, outputs, params=None):
    ins = [np.asarray(x) for x in inputs]
    scale = max(float(np.linalg.norm(x.astype(np.float64).reshape(-1, x.shape[-1]), 2))
                if x.ndim >= 2 else float(np.abs(x).max(initial=0)) for x in ins)
    cases.append({
        "op": op,
        "params": params or {},
        "inputs": [tensor(x) for x in ins],
        "outputs": [tensor(y) for y in outputs],
        "scale": scale,
    })


d64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731

for shape in [(1, 1), (2, 2), (3, 3), (8, 8), (32, 32), (4, 5, 5)]:
    a = f32(shape)
    case("det", [a], [np.linalg.det(d64(a))])
    sign, logabs = np.linalg.slogdet(d64(a))
    case("slogdet", [a], [sign, logabs])
singular = np.array([[1, 2, 3], [4, 5, 6], [2, 4, 6]], dtype=np.float32)
case("det", [singular], [np.linalg.det(d64(singular))])

for a in [f32((6, 4)), f32((4, 6)), f32((32, 32)), f32((3, 5, 3)), rank_deficient(8, 6, 2),
          f32((1, 7)), np.zeros((3, 2), np.float32)]:
    case("svdvals", [a], [np.linalg.svd(d64(a), compute_uv=False)])

for shape in [(1, 1), (5, 5), (32, 32), (3, 4, 4)]:
    a = symmetric(shape)
    case("eigvalsh", [a], [np.linalg.eigvalsh(d64(a))])

for shape in [(5, 5), (2, 4, 4)]:
    a = f32(shape)
    case("inv", [a], [np.linalg.inv(d64(a))])
a, b = f32((5, 5)), f32((5,))
case("solve", [a, b], [np.linalg.solve(d64(a), d64(b))])
a, b = f32((2, 4, 4)), f32((2, 4, 3))
case("solve", [a, b], [np.linalg.solve(d64(a), d64(b))])
a, b = f32((3, 3)), f32((2, 3, 2))
case("solve", [a, b], [np.linalg.solve(d64(a), d64(b))])

for a in [f32((6, 4)), f32((4, 6)), rank_deficient(5, 7, 2)]:
    case("pinv", [a], [np.linalg.pinv(d64(a), rtol=max(a.shape) * np.finfo(np.float32).eps)])

for a, b in [(f32((8, 4)), f32((8, 2))), (rank_deficient(6, 4, 2), f32((6,))), (f32((3, 5)), f32((3,)))]:
    x, _, rank, s = np.linalg.lstsq(d64(a), d64(b), rcond=max(a.shape) * np.finfo(np.float32).eps)
    case("lstsq", [a, b], [x, np.array(rank, dtype=np.int32), s])

v = f32((7,))
for ord_ in [None, 1, 2, "inf", "-inf", 0, 3, 0.5]:
    o = {"inf": np.inf, "-inf": -np.inf}.get(ord_, ord_)
    case("norm", [v], [np.linalg.norm(d64(v), ord=o)], {"ord": ord_})
m = f32((5, 4))
for ord_ in ["fro", "nuc", 1, -1, 2, -2, "inf", "-inf"]:
    o = {"inf": np.inf, "-inf": -np.inf}.get(ord_, ord_)
    case("norm", [m], [np.linalg.norm(d64(m), ord=o)], {"ord": ord_})
t = f32((3, 4, 5))
case("norm", [t], [np.linalg.norm(d64(t))], {"ord": None})
case("norm", [t], [np.linalg.norm(d64(t), ord="fro", axis=(0, 2))], {"ord": "fro", "axis": [0, 2]})
case("norm", [t], [np.linalg.norm(d64(t), ord=1, axis=(2, 1), keepdims=True)],
     {"ord": 1, "axis": [2, 1], "keepdims": True})
case("norm", [t], [np.linalg.norm(d64(t), ord=np.inf, axis=1, keepdims=True)],
     {"ord": "inf", "axis": [1], "keepdims": True})

c = f32((5, 5))
for ord_ in [None, "fro", 1, "inf", -2]:
    o = {"inf": np.inf, "-inf": -np.inf}.get(ord_, ord_)
    case("cond", [c], [np.linalg.cond(d64(c), p=o)], {"ord": ord_})

for a in [rank_deficient(8, 6, 3), f32((5, 5)), np.zeros((3, 3), np.float32), f32((2, 4, 6))]:
    # kiln's default cut-off is float32's: max(m, n) * eps32 * largest.
    rtol = max(a.shape[-2:]) * np.finfo(np.float32).eps
    case("matrix_rank", [a], [np.asarray(np.linalg.matrix_rank(d64(a), rtol=rtol), dtype=np.int32)])

p = (f32((4, 4)) + 2 * np.eye(4, dtype=np.float32)).astype(np.float32)
for k in [0, 1, 2, 5, -1, -3]:
    case("matrix_power", [p], [np.linalg.matrix_power(d64(p), k)], {"n": k})

x, y = f32((4, 3)), f32((3,))
case("cross", [x, y], [np.cross(d64(x), d64(y))], {"axis": -1})
x, y = f32((3, 2)), f32((3, 2))
case("cross", [x, y], [np.cross(d64(x), d64(y), axis=0)], {"axis": 0})

with open(OUT, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {OUT}")
