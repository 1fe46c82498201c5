"""How should the model's mask be brought up to a photo larger than the model's input?

The alpha-matting photos are smaller than 1024 px, so we simulate large photos: our
prediction at the photo's size is shrunk by 4 and 8, then brought back with each
candidate and scored against the truth. Candidates: bilinear, bicubic (what
``full_resolution_alpha`` does) and a guided-filter upsampler steered by the full
resolution photo (He & Sun, "Fast Guided Filter", 2015) at several radii and epsilons.

    python -m bench.upsampling
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from bench import datasets
from bench.environment import describe
from bench.metrics import alpha_metrics
from remover.engine.refine import full_resolution_alpha
from remover.engine.segmenter import Segmenter


def box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.blur(x, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_upsample(low: np.ndarray, guide: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Linear model alpha = a * grey + b fitted at low resolution, applied at full resolution."""
    h, w = low.shape
    g_low = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA)
    mean_g, mean_p = box(g_low, r), box(low, r)
    cov = box(g_low * low, r) - mean_g * mean_p
    var = box(g_low * g_low, r) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_p - a * mean_g
    size = guide.shape[::-1]
    a_up = cv2.resize(box(a, r), size, interpolation=cv2.INTER_LINEAR)
    b_up = cv2.resize(box(b, r), size, interpolation=cv2.INTER_LINEAR)
    return np.clip(a_up * guide + b_up, 0, 1)


def main() -> None:
    print(describe())
    segmenter = Segmenter()
    rows: dict[str, list[dict[str, float]]] = {}
    for photo, truth in datasets.iterate("alphamatting"):
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        h, w = truth.shape
        full = full_resolution_alpha(segmenter.predict([rgb])[0], w, h)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        rows.setdefault("reference: prediction at full size", []).append(alpha_metrics(full, truth))
        for factor in (4, 8):
            low = cv2.resize(full, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
            candidates = {
                "bilinear": np.clip(cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1),
                "bicubic (clearcut)": full_resolution_alpha(low, w, h),
            }
            for r in (1, 2, 4):
                for eps in (1e-4, 1e-3, 1e-2):
                    candidates[f"guided r={r} eps={eps:g}"] = guided_upsample(low, grey, r, eps)
            for name, pred in candidates.items():
                rows.setdefault(f"x{factor} {name}", []).append(alpha_metrics(pred, truth))
    print(f"\n{'method':<40}{'MAE':>8}{'edge MAE':>10}")
    for name, scores in rows.items():
        print(f"{name:<40}{np.mean([s['mae'] for s in scores]):>8.4f}{np.mean([s['edge_mae'] for s in scores]):>10.4f}")


if __name__ == "__main__":
    main()
