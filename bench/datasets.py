"""The evaluation photos in ../shared/eval (never copied into the project)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

EVAL_DIR = Path(os.environ.get("CLEARCUT_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval"))
SETS = ("alphamatting", "ecssd")


def samples(name: str, limit: int | None = None) -> list[tuple[Path, Path]]:
    """(photo, ground-truth alpha) pairs of set ``name``, sorted by file name."""
    root = EVAL_DIR / name
    if not root.is_dir():
        raise SystemExit(f"{root} not found: set CLEARCUT_EVAL_DIR to the folder holding {', '.join(SETS)}")
    truths = {p.stem: p for p in (root / "gt").iterdir()}
    pairs = [(p, truths[p.stem]) for p in sorted((root / "images").iterdir()) if p.stem in truths]
    return pairs[:limit] if limit else pairs


def read_alpha(path: Path) -> np.ndarray:
    """A ground-truth or predicted alpha as (H, W) float32 in [0, 1] (the A channel of RGBA files)."""
    img = Image.open(path)
    band = img.getchannel("A") if img.mode in ("RGBA", "LA") else img.convert("L")
    return np.asarray(band, dtype=np.float32) / 255.0


def iterate(name: str, limit: int | None = None) -> Iterator[tuple[Path, np.ndarray]]:
    for photo, truth in samples(name, limit):
        yield photo, read_alpha(truth)
