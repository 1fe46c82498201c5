"""Warp a cut-out into the ID photo frame and put it on the document's background colour."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from remover.engine.compose import CutOut, over

# Below this scale the cut-out is first area-averaged down (premultiplied, so hair edges keep
# their colour) and only the remainder is done by the bilinear warp, which would alias.
PREDOWNSCALE_BELOW = 0.7


@dataclass(frozen=True)
class Rendered:
    """The framed photo: rgb (H, W, 3) uint8, alpha (H, W) uint8 of the subject, and
    covered (H, W) bool: True where the source photo reached (False = padding)."""

    rgb: np.ndarray
    alpha: np.ndarray
    covered: np.ndarray


def render(cutout: CutOut, matrix: np.ndarray, size: tuple[int, int], background: tuple[int, int, int]) -> Rendered:
    """Place ``cutout`` with the (2, 3) input->output ``matrix`` in a (w, h) frame over ``background``.

    Pixels of the frame that fall outside the source photo (the padding the report flags)
    continue the photo's edge, cut-out and alpha alike: a levelled photo's tilted border, or a
    shirt cut off by the bottom edge, must not show as a seam of background colour. Above the
    photo's top edge they are background: hair cut off there is not made up (the crown would
    be measured where the made-up hair ends), and the report says the head is cut off.
    """
    matrix = np.asarray(matrix, float)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < PREDOWNSCALE_BELOW:
        w, h = cutout.size
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        cutout = cutout.resized(new_w, new_h)
        # The resized pixel centres: x_new = (x + 0.5) * new_w / w - 0.5.
        fx, fy = new_w / w, new_h / h
        pre = np.array([[fx, 0.0, 0.5 * fx - 0.5], [0.0, fy, 0.5 * fy - 0.5], [0.0, 0.0, 1.0]])
        matrix = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ np.linalg.inv(pre))[:2]
    width, height = size
    fg = cv2.warpAffine(cutout.foreground, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(cutout.alpha, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    source = np.full(cutout.alpha.shape, 255, np.uint8)
    covered = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0) >= 128
    back = cv2.invertAffineTransform(matrix)
    ys, xs = np.mgrid[0:height, 0:width]
    above_photo = back[1, 0] * xs + back[1, 1] * ys + back[1, 2] < -0.5  # source y of each output pixel
    alpha[above_photo] = 0
    backdrop = np.empty((height, width, 3), np.uint8)
    backdrop[...] = background
    rgb = over(CutOut(foreground=fg, alpha=alpha), backdrop)
    return Rendered(rgb=rgb, alpha=alpha, covered=covered)
