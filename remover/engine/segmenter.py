"""Run ISNet on images: device and precision choice, batching, one model per process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from PIL import Image

from .isnet import ISNet
from .weights import load_state_dict

MODEL_SIZE = 1024
# The released model was trained on RGB / 255 - 0.5 with std 1.0.
INPUT_MEAN = 0.5


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` prefers CUDA when present, then the CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def pick_dtype(device: torch.device, requested: str = "auto") -> torch.dtype:
    """Compute precision: fp16 on CUDA; bf16 on CPUs with native bf16 (AVX512-BF16/AMX), else fp32.

    bf16 doubles throughput here and was checked against fp32 on both benchmark sets
    (see BENCHMARKS.md); ``CLEARCUT_PRECISION=fp32`` turns it off.
    """
    names = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if requested != "auto":
        return names[requested]
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return torch.float32


@dataclass(frozen=True)
class Placement:
    """Where an image sits on the square model canvas: rows top:top+height, cols left:left+width."""

    top: int
    left: int
    height: int
    width: int


def _normalise(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (3, H, W) float32 in [-0.5, 0.5]."""
    return torch.tensor(rgb).permute(2, 0, 1).float().div_(255.0).sub_(INPUT_MEAN)  # copies: decoded arrays are read-only


def _aspect_grid(height: int, width: int, size: int = MODEL_SIZE) -> tuple[int, int]:
    """(rows, cols) of an image of ``height`` x ``width`` with its long side scaled to ``size``."""
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def letterbox(rgb: np.ndarray, size: int = MODEL_SIZE) -> tuple[torch.Tensor, Placement]:
    """(H, W, 3) uint8 RGB -> (3, size, size) float32 in [-0.5, 0.5] and the image's placement.

    The long side is scaled to ``size`` and the short side padded with mid-grey (0 after
    normalisation), keeping the aspect ratio. Pillow's bilinear filter widens its support
    when shrinking, so large photos are area-averaged rather than aliased.
    """
    h, w = rgb.shape[:2]
    nh, nw = _aspect_grid(h, w, size)
    if (nh, nw) != (h, w):
        rgb = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.BILINEAR))
    place = Placement(top=(size - nh) // 2, left=(size - nw) // 2, height=nh, width=nw)
    canvas = torch.zeros(3, size, size)
    canvas[:, place.top:place.top + nh, place.left:place.left + nw] = _normalise(rgb)
    return canvas, place


def stretch(rgb: np.ndarray, size: int = MODEL_SIZE) -> tuple[torch.Tensor, Placement]:
    """(H, W, 3) uint8 RGB -> (3, size, size) float32 in [-0.5, 0.5], resized to fill the square.

    The framing the model was trained on (and rembg's). Lanczos, as rembg: on ECSSD it
    scored the same as rembg's own pipeline on these weights.
    """
    square = np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.LANCZOS))
    return _normalise(square), Placement(top=0, left=0, height=size, width=size)


Framing = Callable[[np.ndarray], tuple[torch.Tensor, Placement]]
FRAMINGS: dict[str, Framing] = {"letterbox": letterbox, "stretch": stretch}

# A map with more than this fraction of its pixels between 0.1 and 0.9 is a doubtful answer.
# On the tune halves 5% scored as 3% did (alphamatting the same, ECSSD MAE 0.0328 both) with
# second looks on 22% of ECSSD photos instead of 54%.
UNSURE_LIMIT = 0.05
# A part the second framing adds must come within this many map pixels of the first's subject.
PART_REACH = 2
# ... and brings its soft surroundings along, this far (map pixels) around it.
PART_MARGIN = 4
# ... and the first framing must hint at it: above HINT on at least HINTED_SHARE of the pixels
# the part would add. On the tune halves the one part below (a couch under a dog, 4%) was
# wrong; the next lowest (20%, 24%, 30%) were mostly right.
HINT = 0.1
HINTED_SHARE = 0.1


def unsure_fraction(prob: np.ndarray) -> float:
    """Share of a probability map that is neither clearly foreground nor clearly background."""
    return float(((prob > 0.1) & (prob < 0.9)).mean())


def worth_a_second_look(prob: np.ndarray) -> bool:
    """Whether a stretched answer is doubtful enough to segment the photo letterboxed as well."""
    return unsure_fraction(prob) > UNSURE_LIMIT


def on_grid(prob: np.ndarray, height: int, width: int) -> np.ndarray:
    """A (h, w) probability map resampled to (height, width) float32 (area average when shrinking)."""
    if prob.shape == (height, width):
        return prob
    shrink = height <= prob.shape[0] and width <= prob.shape[1]
    return cv2.resize(prob, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def fuse_parts(base: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``base`` with every part of ``other`` that touches base's subject; both (h, w) float in [0, 1].

    Each framing can miss a different part of a subject (a dark body on dark rock, seen by
    only one of them), so picking one whole map drops it. A part is a connected region
    where ``other`` says subject (p > 0.5) that comes within PART_REACH pixels of base's
    subject and that base hints at (above HINT on HINTED_SHARE of what the part would add);
    in it and PART_MARGIN pixels around it the two maps are merged by their maximum,
    elsewhere base is kept. So a blob only the second framing imagines, away from the
    subject or where base sees plain background, is not added. On the tune halves this
    beat picking the surer map, a plain maximum and a mean (BENCHMARKS.md). Returns (h, w)
    float32.
    """
    count, labels = cv2.connectedComponents((other > 0.5).astype(np.uint8), connectivity=8)
    reach = 2 * PART_REACH + 1
    near = cv2.dilate((base > 0.5).astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    touching = np.zeros(count, bool)
    touching[np.unique(labels[near & (other > 0.5)])] = True
    touching[0] = False  # label 0 is everything other calls background
    added = (base < 0.5).ravel()
    new = np.bincount(labels.ravel(), weights=added, minlength=count)
    hinted = np.bincount(labels.ravel(), weights=added & (base.ravel() > HINT), minlength=count)
    touching &= hinted >= HINTED_SHARE * new
    margin = 2 * PART_MARGIN + 1
    parts = cv2.dilate(touching[labels].astype(np.uint8), np.ones((margin, margin), np.uint8)) > 0
    return np.where(parts, np.maximum(base, other), base).astype(np.float32)


# Stages in execution order, with the scale level each runs at (level k: 1/4**k of the pixels).
_STAGE_LEVELS = {
    "stage1": 0, "stage2": 1, "stage3": 2, "stage4": 3, "stage5": 4, "stage6": 5,
    "stage5d": 4, "stage4d": 3, "stage3d": 2, "stage2d": 1, "stage1d": 0,
}


def stage_weights(model: ISNet) -> dict[str, float]:
    """Each stage's share of the forward pass, for progress reports.

    Convolution cost is parameters x pixels, so parameters / 4**level ranks the stages;
    exact FLOPs would only move the progress bar by a few percent.
    """
    cost = {
        name: sum(p.numel() for p in getattr(model, name).parameters()) / 4**level
        for name, level in _STAGE_LEVELS.items()
    }
    total = sum(cost.values())
    return {name: c / total for name, c in cost.items()}


class Segmenter:
    """ISNet loaded once, ready for concurrent callers (inference is serialised by a lock).

    ``predict`` maps RGB images to foreground probabilities at the model's resolution.
    ``flip`` averages the prediction with that of the mirrored image (test-time
    augmentation): sharper hair at twice the model cost. ``framing``: how a photo is put
    on the model's square canvas (``auto``, ``letterbox`` or ``stretch``; see ``predict``).
    ``size``: the side of that canvas (the released weights were trained at MODEL_SIZE;
    smaller sizes serve the simulated large-photo benchmark). ``detail``: photos larger than
    the canvas get their boundary re-segmented in tiles at full resolution
    (``refine.refine_boundary``), one more model pass per tile.
    """

    size: int = MODEL_SIZE
    detail: bool = False

    def __init__(
        self,
        device: str = "auto",
        precision: str = "auto",
        threads: int = 0,
        flip: bool = False,
        weights: str = "isnet-general",
        framing: str = "auto",
        size: int = MODEL_SIZE,
        detail: bool = False,
    ) -> None:
        if framing not in ("auto", *FRAMINGS):
            raise ValueError(f"framing must be auto, letterbox or stretch, not {framing!r}")
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, precision)
        self.flip = flip
        self.framing = framing
        self.size = size
        self.detail = detail
        model = ISNet()
        model.load_state_dict(load_state_dict(weights), strict=True)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        if self.device.type == "cuda" and self.dtype == torch.float16:
            self.model = self.model.half()
        self._lock = threading.Lock()
        self._stage_weights = stage_weights(model)

    def _report_stages(self, progress: Callable[[float], None]) -> list:
        """Forward hooks that call ``progress(fraction done)`` after each stage; returns their handles."""
        done = 0.0
        handles = []
        for name, weight in self._stage_weights.items():
            def hook(module, args, output, weight=weight):
                nonlocal done
                done += weight
                progress(min(done, 1.0))
            handles.append(getattr(self.model, name).register_forward_hook(hook))
        return handles

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor, progress: Callable[[float], None] | None = None) -> torch.Tensor:
        """(N, 3, S, S) normalised input -> (N, 1, S, S) float32 probabilities in [0, 1].

        ``progress`` receives the fraction of the forward pass done, stage by stage.
        """
        batch = batch.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        if self.dtype == torch.float16 and self.device.type == "cuda":
            batch = batch.half()
        use_autocast = self.dtype == torch.bfloat16
        with self._lock, torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_autocast):
            handles = self._report_stages(progress) if progress else []
            try:
                pred = self._run(batch)
            finally:
                for handle in handles:
                    handle.remove()
        return pred.cpu()

    def _run(self, batch: torch.Tensor) -> torch.Tensor:
        if self.flip:
            doubled = torch.cat((batch, batch.flip(-1)), 0)
            pred = self.model(doubled, side_outputs=False)[0].float()
            n = batch.shape[0]
            return (pred[:n] + pred[n:].flip(-1)) * 0.5
        return self.model(batch, side_outputs=False)[0].float()

    def predict(
        self,
        images: Sequence[np.ndarray],
        batch_size: int = 4,
        progress: Callable[[float], None] | None = None,
    ) -> list[np.ndarray]:
        """RGB uint8 images (any sizes) -> float32 probabilities in [0, 1], one map per image.

        A map covers the whole image at the model's scale: with ``framing="auto"`` and
        ``letterbox`` it has the image's aspect, long side MODEL_SIZE; ``stretch`` alone gives
        the MODEL_SIZE square. ``full_resolution_alpha`` brings any of them to the photo.
        ``progress`` receives the fraction of the work done.

        With ``framing="auto"`` each photo is first stretched, as the model was trained (and
        as rembg does). Where that answer is doubtful (``worth_a_second_look``) the photo is
        segmented again letterboxed, which keeps a margin around subjects that fill the
        frame (stretched, the model turns some portraits inside out), and the letterboxed
        parts that touch the stretched subject are added (``fuse_parts``): the two framings
        see different parts of some subjects. Chosen on the tune halves (BENCHMARKS.md).
        """
        first = FRAMINGS.get(self.framing, stretch)  # auto starts stretched
        share = 0.5 if self.framing == "auto" else 1.0
        maps = self._predict_framed(images, first, batch_size, progress, 0.0, share)
        if self.framing == "auto":
            doubted = [i for i, prob in enumerate(maps) if worth_a_second_look(prob)]
            second = self._predict_framed([images[i] for i in doubted], letterbox, batch_size, progress, share, 1.0)
            boxed = dict(zip(doubted, second))
            for i, img in enumerate(images):
                if i in boxed:
                    maps[i] = fuse_parts(on_grid(maps[i], *boxed[i].shape), boxed[i])
                else:
                    maps[i] = on_grid(maps[i], *_aspect_grid(img.shape[0], img.shape[1], self.size))
        if progress:
            progress(1.0)
        return maps

    def _predict_framed(
        self,
        images: Sequence[np.ndarray],
        framing: Framing,
        batch_size: int,
        progress: Callable[[float], None] | None,
        start_fraction: float,
        end_fraction: float,
    ) -> list[np.ndarray]:
        """One forward pass per batch of ``framing``-ed images; progress runs start -> end fraction."""
        results: list[np.ndarray] = []
        span = end_fraction - start_fraction
        for start in range(0, len(images), batch_size):
            inputs, places = zip(*(framing(img, self.size) for img in images[start:start + batch_size]))
            batch_progress = None
            if progress:
                def batch_progress(f: float, start=start, n=len(inputs)) -> None:
                    progress(start_fraction + span * (start + f * n) / len(images))
            for prob, p in zip(self.forward(torch.stack(inputs), batch_progress), places):
                results.append(np.ascontiguousarray(prob[0, p.top:p.top + p.height, p.left:p.left + p.width].numpy()))
        return results

    def predict_windows(self, windows: Sequence[np.ndarray], batch_size: int = 4) -> list[np.ndarray]:
        """RGB uint8 crops -> float32 probabilities in [0, 1] at each crop's own size.

        Each crop is stretched to the canvas (boundary tiles are square, so nothing is
        distorted) and the answer brought back to the crop's pixels.
        """
        maps = self._predict_framed(windows, stretch, batch_size, None, 0.0, 1.0)
        return [on_grid(prob, *crop.shape[:2]) for prob, crop in zip(maps, windows)]
