"""The process's ISNet, configured from settings; the web worker and every command use it."""

from django.conf import settings

from remover.engine.pipeline import shared_segmenter
from remover.engine.segmenter import Segmenter


def configured_segmenter(flip: bool = False) -> Segmenter:
    """Loaded once per process: CLEARCUT_DEVICE, CLEARCUT_PRECISION and CLEARCUT_THREADS."""
    return shared_segmenter(
        device=settings.CLEARCUT_DEVICE,
        precision=settings.CLEARCUT_PRECISION,
        threads=settings.CLEARCUT_THREADS,
        flip=flip,
    )
