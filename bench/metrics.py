"""Alpha-matte metrics used by every benchmark. All maps are (H, W) float in [0, 1]."""

from __future__ import annotations

import cv2
import numpy as np

EDGE_RADIUS = 10


def edge_band(truth: np.ndarray, radius: int = EDGE_RADIUS) -> np.ndarray:
    """(H, W) bool: within ``radius`` px of the truth's 0.5 boundary, or where the truth is fractional."""
    inside = (truth >= 0.5).astype(np.uint8)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    ring = cv2.dilate(inside, disk) != cv2.erode(inside, disk)
    return ring | ((truth > 0) & (truth < 1))


def alpha_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MAE, IoU at 0.5 and MAE inside the edge band."""
    err = np.abs(pred.astype(np.float64) - truth)
    inter = np.logical_and(pred >= 0.5, truth >= 0.5).sum()
    union = np.logical_or(pred >= 0.5, truth >= 0.5).sum()
    band = edge_band(truth)
    return {
        "mae": float(err.mean()),
        "iou": float(inter / union) if union else 1.0,
        "edge_mae": float(err[band].mean()) if band.any() else 0.0,
    }
