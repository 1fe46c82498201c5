"""Cost of the refine step (full-resolution alpha, edge colours, 8-bit alpha) at phone sizes.

No model: a 1024-px probability map with a wavy outline stands in for the model's answer,
and scikit-image's astronaut enlarged to 12 and 24 MP for the photo. Best of three runs.

    python -m bench.refine_cost
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from skimage import data

from bench.environment import describe
from remover.engine.heap import keep_freed_memory
from remover.engine.refine import (
    EDGE_HIGH,
    EDGE_LOW,
    estimate_foreground,
    full_resolution_alpha,
)
from remover.engine.segmenter import unsure_fraction


def wavy_map(height: int, width: int) -> np.ndarray:
    """(height, width) float32 probabilities: a subject with a wavy, soft outline."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = np.arctan2(yy - height / 2, xx - width / 2)
    radius = np.hypot(yy - height / 2, xx - width / 2) + 25 * np.sin(angle * 9) + 8 * np.sin(angle * 40)
    return np.clip((0.43 * min(height, width) - radius) / 5 + 0.5, 0, 1).astype(np.float32)


def main() -> None:
    keep_freed_memory()  # as every Clearcut process does (RemoverConfig.ready)
    print(describe())
    for width, height in ((4000, 3000), (6000, 4000)):
        photo = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
        prob = wavy_map(round(1024 * height / width), 1024)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            alpha = full_resolution_alpha(prob, width, height)
            estimate_foreground(photo, alpha)
            cv2.convertScaleAbs(alpha, alpha=255.0)
            runs.append(time.perf_counter() - start)
        edge = int(((alpha > EDGE_LOW) & (alpha < EDGE_HIGH)).sum())
        print(f"{width}x{height} ({width * height / 1e6:.0f} MP): refine {min(runs):.3f} s best of 3 "
              f"({', '.join(f'{r:.3f}' for r in runs)}); map {unsure_fraction(prob):.1%} unsure, {edge} edge pixels")


if __name__ == "__main__":
    main()
