#!/usr/bin/env python3
"""Writes tests/fixtures/torch_tensors.safetensors with PyTorch's
safetensors writer: one tensor per dtype PyTorch saves, each holding values
given by a formula that tests/io.rs recomputes, and metadata. Run from the
repository root:

    python3 tests/gen_io_fixture.py
"""
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    k = torch.arange(12)
    tensors = {
        # (k - 5.5) / 4 is exact in every float format here.
        "float32": ((k - 5.5) / 4).to(torch.float32).reshape(3, 4),
        "float16": ((k - 5.5) / 4).to(torch.float16).reshape(2, 6),
        "bfloat16": ((k - 5.5) / 4).to(torch.bfloat16).reshape(12),
        "float64": ((k - 5.5) / 4).to(torch.float64).reshape(4, 3),
        "int64": (k * 1000 - 4000).to(torch.int64).reshape(2, 2, 3),
        "int32": (k * -7).to(torch.int32).reshape(6, 2),
        "int16": (k - 6).to(torch.int16),
        "uint8": (k * 20).to(torch.uint8).reshape(3, 4),
        "bool": (k % 3 == 0).reshape(4, 3),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "layer.0.weight": torch.ones(2, 3),
    }
    out = os.path.join(HERE, "fixtures", "torch_tensors.safetensors")
    save_file(tensors, out, metadata={"writer": "torch", "torch": torch.__version__})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
