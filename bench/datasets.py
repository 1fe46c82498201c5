"""The evaluation photos in ../shared/eval (never copied into the project), and their fixed halves.

Each set is split once into a *tune* half and a *confirm* half (bench/splits/<set>-<half>.txt:
the sorted file stems, alternately; names only). Every rule, threshold and weight is chosen on
*tune*; *confirm* only reports, so a gain that shows there was not fitted to those photos.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

EVAL_DIR = Path(os.environ.get("CLEARCUT_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval"))
SETS = ("alphamatting", "ecssd")
SPLITS_DIR = Path(__file__).resolve().parent / "splits"
HALVES = ("tune", "confirm")


def split_stems(name: str, half: str) -> list[str]:
    """The file stems of ``half`` (``tune`` or ``confirm``) of set ``name``, as committed."""
    if half not in HALVES:
        raise SystemExit(f"split must be one of {', '.join(HALVES)} or all, not {half!r}")
    return (SPLITS_DIR / f"{name}-{half}.txt").read_text().split()


def samples(name: str, limit: int | None = None, split: str = "all") -> list[tuple[Path, Path]]:
    """(photo, ground-truth alpha) pairs of set ``name`` (``split``: all, tune or confirm), sorted by file name."""
    root = EVAL_DIR / name
    if not root.is_dir():
        raise SystemExit(f"{root} not found: set CLEARCUT_EVAL_DIR to the folder holding {', '.join(SETS)}")
    truths = {p.stem: p for p in (root / "gt").iterdir()}
    pairs = [(p, truths[p.stem]) for p in sorted((root / "images").iterdir()) if p.stem in truths]
    if split != "all":
        wanted = set(split_stems(name, split))
        pairs = [pair for pair in pairs if pair[0].stem in wanted]
    return pairs[:limit] if limit else pairs


def read_alpha(path: Path) -> np.ndarray:
    """A ground-truth or predicted alpha as (H, W) float32 in [0, 1] (the A channel of RGBA files)."""
    img = Image.open(path)
    band = img.getchannel("A") if img.mode in ("RGBA", "LA") else img.convert("L")
    return np.asarray(band, dtype=np.float32) / 255.0


def iterate(name: str, limit: int | None = None, split: str = "all") -> Iterator[tuple[Path, np.ndarray]]:
    for photo, truth in samples(name, limit, split):
        yield photo, read_alpha(truth)
