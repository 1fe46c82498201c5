"""Run ISNet on images: device and precision choice, batching, one model per process."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
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


def to_model_input(rgb: np.ndarray, size: int = MODEL_SIZE) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (3, size, size) float32 in [-0.5, 0.5], resized without keeping aspect.

    The model was trained on square inputs stretched from any aspect. Pillow's bilinear
    filter widens its support when shrinking, so large photos are area-averaged, not aliased.
    """
    if rgb.shape[:2] != (size, size):
        rgb = np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR))
    x = torch.tensor(rgb).permute(2, 0, 1).float().div_(255.0)  # copies: decoded arrays are read-only
    return x.sub_(INPUT_MEAN)


class Segmenter:
    """ISNet loaded once, ready for concurrent callers (inference is serialised by a lock).

    ``predict`` maps RGB images to foreground probabilities at the model's resolution.
    ``flip`` averages the prediction with that of the mirrored image (test-time
    augmentation): sharper hair at twice the model cost.
    """

    def __init__(
        self,
        device: str = "auto",
        precision: str = "auto",
        threads: int = 0,
        flip: bool = False,
        weights: str = "isnet-general",
    ) -> None:
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, precision)
        self.flip = flip
        model = ISNet()
        model.load_state_dict(load_state_dict(weights), strict=True)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        if self.device.type == "cuda" and self.dtype == torch.float16:
            self.model = self.model.half()
        self._lock = threading.Lock()

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised input -> (N, 1, S, S) float32 probabilities in [0, 1]."""
        batch = batch.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        if self.dtype == torch.float16 and self.device.type == "cuda":
            batch = batch.half()
        use_autocast = self.dtype == torch.bfloat16
        with self._lock, torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_autocast):
            if self.flip:
                doubled = torch.cat((batch, batch.flip(-1)), 0)
                pred = self.model(doubled, side_outputs=False)[0].float()
                n = batch.shape[0]
                pred = (pred[:n] + pred[n:].flip(-1)) * 0.5
            else:
                pred = self.model(batch, side_outputs=False)[0].float()
        return pred.cpu()

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 4) -> list[np.ndarray]:
        """RGB uint8 images (any sizes) -> (MODEL_SIZE, MODEL_SIZE) float32 probabilities each."""
        results: list[np.ndarray] = []
        for start in range(0, len(images), batch_size):
            chunk = torch.stack([to_model_input(img) for img in images[start:start + batch_size]])
            results.extend(p[0].numpy() for p in self.forward(chunk))
        return results


def resize_probabilities(prob: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear (half-pixel) resize of a (h, w) float map to (height, width), antialiased when shrinking."""
    t = torch.from_numpy(prob)[None, None]
    shrinking = width < prob.shape[1] or height < prob.shape[0]
    out = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False, antialias=shrinking)
    return out[0, 0].clamp_(0.0, 1.0).numpy()
