"""Edge colour decontamination: how close is the recovered foreground to the true one?

Each alpha-matting ground-truth matte composites one set photo (the "foreground") over
an ECSSD photo (the "background"): I = a F + (1 - a) B. We then estimate F from I and
the true a, and report the alpha-weighted mean colour error (0-255 levels) where
0 < a < 1. Compares no estimate (F = I), pymatting's full-resolution solver, and ours.

    python -m bench.foreground [--split tune|confirm|all]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from bench import datasets
from bench.environment import describe
from remover.engine.refine import estimate_foreground


def pymatting_full(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    from pymatting import estimate_foreground_ml

    fg = estimate_foreground_ml(image.astype(np.float64) / 255.0, alpha.astype(np.float64))
    return np.clip(fg * 255.0 + 0.5, 0, 255).astype(np.uint8)


METHODS = {
    "none (F = I)": lambda image, alpha: image,
    "pymatting estimate_foreground_ml, full resolution": pymatting_full,
    "clearcut estimate_foreground": estimate_foreground,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="all", choices=("all", *datasets.HALVES))
    args = parser.parse_args()
    print(describe())
    mattes = datasets.samples("alphamatting", split=args.split)
    backgrounds = datasets.samples("ecssd", limit=len(mattes), split=args.split)
    pymatting_full(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 0.5))  # compile numba kernels first
    errors = {name: [] for name in METHODS}
    seconds = {name: 0.0 for name in METHODS}
    for (photo, truth), (backdrop, _) in zip(mattes, backgrounds):
        alpha = datasets.read_alpha(truth)
        h, w = alpha.shape
        fg = np.asarray(Image.open(photo).convert("RGB").resize((w, h)), dtype=np.float32)
        bg = np.asarray(Image.open(backdrop).convert("RGB").resize((w, h)), dtype=np.float32)
        a = alpha[..., None]
        observed = np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255).astype(np.uint8)
        band = (alpha > 0.02) & (alpha < 0.98)
        weights = alpha[band]
        for name, method in METHODS.items():
            start = time.perf_counter()
            estimate = method(observed, alpha)
            seconds[name] += time.perf_counter() - start
            err = np.abs(estimate[band].astype(np.float32) - fg[band]).mean(axis=1)
            errors[name].append(float((err * weights).sum() / weights.sum()))
    print(f"\n{len(mattes)} composites ({args.split}); alpha-weighted colour error in the soft band (levels of 255)")
    print(f"{'method':<52}{'error':>8}{'s/img':>8}")
    for name in METHODS:
        print(f"{name:<52}{np.mean(errors[name]):>8.2f}{seconds[name] / len(mattes):>8.3f}")


if __name__ == "__main__":
    main()
