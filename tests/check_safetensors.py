#!/usr/bin/env python3
"""Checks a safetensors file that tests/io.rs wrote with kiln, reading it
with the reference `safetensors` package and NumPy: the names, dtypes,
shapes, values (by the formulas the test used) and metadata. Exits non-zero
with a message on the first difference.

    python3 tests/check_safetensors.py FILE
"""
import sys

import numpy as np
from safetensors import safe_open


def main(path):
    k = np.arange(12)
    want = {
        "float32": ((k - 5.5) / 4).astype(np.float32).reshape(3, 4),
        "float16": ((k - 5.5) / 4).astype(np.float16).reshape(2, 6),
        "int32": (k * -7).astype(np.int32).reshape(6, 2),
        "uint32": (k * 100000).astype(np.uint32).reshape(12),
        "bool": (k % 3 == 0).reshape(4, 3),
        "nested.layer.weight": np.full((2, 3), 0.25, dtype=np.float32),
        "scalar": np.array(2.5, dtype=np.float32),
    }
    with safe_open(path, framework="np") as f:
        names = set(f.keys())
        if names != set(want):
            sys.exit(f"names {sorted(names)}, expected {sorted(want)}")
        for name, expected in want.items():
            got = f.get_tensor(name)
            if got.dtype != expected.dtype or got.shape != expected.shape:
                sys.exit(f"{name}: {got.dtype} {got.shape}, expected {expected.dtype} {expected.shape}")
            if not np.array_equal(got, expected):
                sys.exit(f"{name}: {got.ravel().tolist()}, expected {expected.ravel().tolist()}")
        if f.metadata() != {"format": "kiln"}:
            sys.exit(f"metadata {f.metadata()}, expected {{'format': 'kiln'}}")
    print(f"{path}: {len(want)} tensors as expected")


if __name__ == "__main__":
    main(sys.argv[1])
