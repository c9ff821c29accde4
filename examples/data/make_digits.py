"""Writes the scikit-learn digits (1797 8x8 grey images of the digits 0-9,
values 0-16, from the UCI optical recognition set that scikit-learn ships)
to digits.safetensors beside this script: `images` uint8 (1797, 8, 8) and
`labels` uint8 (1797,), in scikit-learn's order. Run once:

    pip install scikit-learn safetensors numpy
    python3 examples/data/make_digits.py
"""
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits


def main():
    digits = load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    assert images.shape == (1797, 8, 8) and images.max() == 16
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))
    out = Path(__file__).with_name("digits.safetensors")
    save_file({"images": images, "labels": labels}, str(out),
              metadata={"source": "sklearn.datasets.load_digits"})
    print(f"wrote {out}: {images.shape[0]} images")


if __name__ == "__main__":
    main()
