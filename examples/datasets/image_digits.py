"""Write scikit-learn's bundled 8x8 handwritten digits as IMAGE_FILES datasets.

    python examples/datasets/image_digits.py --out data/

writes ``digits_train.zip``, ``digits_val.zip`` and ``digits_test.zip`` (60/20/20 %, split
per class so every split has all 10 classes). Each zip holds grayscale PNGs under
``images/`` and an ``images.csv`` with columns ``path`` and ``class`` (the digit 0-9), the
task IMAGE_CLASSIFICATION format. The data ships inside scikit-learn: nothing is downloaded.
The output is byte-for-byte the same on every run.
"""

from __future__ import annotations

import argparse
import io
import os
import zipfile

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed so that the zips are reproducible


def write_zip(path: str, files: dict[str, bytes]) -> None:
    """Write ``files`` (member name -> bytes) as a reproducible zip."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            # PNGs are already compressed; deflating them again only costs time.
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def split_indices(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Split row indices into SPLITS per class, so each split keeps every class."""
    rng = np.random.RandomState(seed)
    parts: dict[str, list[int]] = {name: [] for name in SPLITS}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_train = round(len(members) * SPLITS["train"])
        n_val = round(len(members) * SPLITS["val"])
        parts["train"] += members[:n_train].tolist()
        parts["val"] += members[n_train : n_train + n_val].tolist()
        parts["test"] += members[n_train + n_val :].tolist()
    return {name: np.sort(np.asarray(idx)) for name, idx in parts.items()}


def build_digits(out_dir: str, image_size: int = 16, seed: int = 0) -> dict[str, str]:
    """Write the digits as IMAGE_FILES zips into ``out_dir``; return split name -> path.

    ``image_size``: side of the square PNGs (the originals are 8x8; they are upscaled with
    bilinear resampling)."""
    os.makedirs(out_dir, exist_ok=True)
    digits = load_digits()
    # The bundled pixels are 0..16; stretch them to the usual 0..255.
    pixels = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    paths: dict[str, str] = {}
    for split, indices in split_indices(digits.target, seed).items():
        files: dict[str, bytes] = {}
        rows = ["path,class"]
        for i in indices:
            image = Image.fromarray(pixels[i])  # 2-D uint8 -> mode "L"
            if image_size != 8:
                image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            name = f"images/{i:04d}.png"
            files[name] = buffer.getvalue()
            rows.append(f"{name},{int(digits.target[i])}")
        files = {"images.csv": ("\n".join(rows) + "\n").encode(), **files}
        paths[split] = os.path.join(out_dir, f"digits_{split}.zip")
        write_zip(paths[split], files)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the zips into")
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for split, path in build_digits(args.out, args.image_size, args.seed).items():
        print(f"{split}: {path}")


if __name__ == "__main__":
    main()
