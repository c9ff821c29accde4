"""Writes the grayscale photo used by the demo's SVD section to
data/photo.bin beside this script: the "china.jpg" sample image that
scikit-learn ships (a temple in China, 427x640 RGB), converted to grayscale
(ITU-R 601-2 luma) and downscaled to 128x192 with a Lanczos filter.

Layout: a 4-byte header, height then width as little-endian uint16, then
height * width uint8 pixels in row-major order (0 black, 255 white).
Run once from the repository root:

    pip install scikit-learn pillow
    python3 www/demo/make_photo.py
"""
import struct
from pathlib import Path

from PIL import Image
from sklearn.datasets import load_sample_image

HEIGHT, WIDTH = 128, 192


def main():
    rgb = Image.fromarray(load_sample_image("china.jpg"))
    gray = rgb.convert("L").resize((WIDTH, HEIGHT), Image.LANCZOS)
    pixels = gray.tobytes()
    assert len(pixels) == HEIGHT * WIDTH
    out = Path(__file__).with_name("data") / "photo.bin"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(struct.pack("<HH", HEIGHT, WIDTH) + pixels)
    print(f"wrote {out}: {HEIGHT}x{WIDTH}, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
