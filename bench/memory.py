"""Peak memory and stage times for one large photo through the whole pipeline.

A 24 MP (6000x4000) JPEG is made from scikit-image's astronaut, then decoded, cut out,
composited and written as PNG in this process; peak RSS is the kernel's high-water mark.
Target: under 2.5 GB.

    python -m bench.memory [--megapixels 24]
"""

from __future__ import annotations

import argparse
import io
import resource
import time

import numpy as np
from PIL import Image

from bench.environment import describe
from remover.engine.heap import keep_freed_memory
from remover.engine.pipeline import remove_background, shared_segmenter


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def large_photo(megapixels: float) -> bytes:
    from skimage import data

    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    height = int(round(width / 1.5))
    img = Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=24.0)
    args = parser.parse_args()
    keep_freed_memory()  # as every Clearcut process does (RemoverConfig.ready)
    print(describe())
    source = large_photo(args.megapixels)
    segmenter = shared_segmenter()
    segmenter.predict([np.zeros((64, 64, 3), np.uint8)])  # load and warm the model
    baseline = peak_rss_gb()
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    png = remove_background(source, segmenter, progress=lambda stage, _: marks.append((stage, time.perf_counter())))
    total = time.perf_counter() - start
    seconds: dict[str, float] = {}  # per stage, in order; a stage reports progress many times
    for (stage, t0), (_, t1) in zip(marks, marks[1:]):
        seconds[stage] = seconds.get(stage, 0.0) + t1 - t0
    stages = [f"{stage} {value:.2f}s" for stage, value in seconds.items()]
    size = Image.open(io.BytesIO(png)).size
    print(f"{size[0]}x{size[1]} ({args.megapixels:g} MP): {total:.2f}s end to end; " + ", ".join(stages))
    print(f"peak RSS {peak_rss_gb():.2f} GB (model loaded and warm: {baseline:.2f} GB); issue 12: at most 1.5 GB at 24 MP")


if __name__ == "__main__":
    main()
