"""Writes fortunes.txt beside this script: the quotations, poems and
sayings of Debian's `fortunes` package (the fortune-mod collection, files
songs-poems, wisdom, love and humorists), each followed by a
blank line instead of fortune's `%` separator, kept to printable ASCII.
It is the text that examples/char_transformer.rs learns from. Run once:

    python3 examples/data/make_text.py

It fetches the package with `apt-get download` (or takes a .deb given as
the first argument) and unpacks it with `dpkg-deb`.
"""
import glob
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = ["songs-poems", "wisdom", "love", "humorists"]


def package(work):
    if len(sys.argv) > 1:
        return sys.argv[1]
    subprocess.run(["apt-get", "download", "fortunes"], cwd=work, check=True)
    return glob.glob(f"{work}/fortunes_*.deb")[0]


def main():
    with tempfile.TemporaryDirectory() as work:
        deb = package(work)
        subprocess.run(["dpkg-deb", "-x", deb, f"{work}/x"], check=True)
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        quotes = []
        for name in FILES:
            text = Path(f"{work}/x/usr/share/games/fortunes/{name}").read_text(errors="replace")
            for quote in text.split("\n%\n"):
                quote = quote.replace("\t", "    ").strip("\n%")
                quote = "".join(c for c in quote if c == "\n" or " " <= c <= "~")
                quote = "\n".join(line.rstrip() for line in quote.split("\n"))
                if quote.strip():
                    quotes.append(quote.rstrip() + "\n")
    out = Path(__file__).with_name("fortunes.txt")
    out.write_text("\n".join(quotes))
    print(f"wrote {out}: {len(quotes)} quotations, {out.stat().st_size} bytes "
          f"(fortunes {version}: {', '.join(FILES)})")


if __name__ == "__main__":
    main()
