"""Shared fixtures: real photos that ship with scikit-image, and one loaded model per run."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image


def png_bytes(array: np.ndarray, **save_args) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", **save_args)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """(512, 512, 3) uint8: an astronaut in front of a flag and a plain light backdrop."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def segmenter():
    """The process-wide model, loaded once for the whole test run."""
    from remover.engine.pipeline import shared_segmenter

    return shared_segmenter()
