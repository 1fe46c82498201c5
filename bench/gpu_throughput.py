"""Engine throughput on a GPU: images per second at 1024² in fp16, batch 1, 4 and 16.

    python -m bench.gpu_throughput [--batches 1,4,16] [--seconds 10] [--random-weights]

Two figures per batch size: the model's forward pass alone (a normalised 1024² batch in,
probabilities back on the host) and ``Segmenter.predict`` on 1024×1024 RGB photos, which
adds the letterboxing on the CPU. Tells whether batching queued jobs pays on this card
(CLEARCUT worker settings, docs/deploy.md). Without CUDA it says so and exits cleanly.

``--random-weights`` (automatic when models/isnet-general.safetensors is missing, as on a
machine the 88 MB weights file cannot be copied to): the same network with untrained
weights; the arithmetic, and so the speed, does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from bench.environment import describe
from remover.engine.isnet import ISNet
from remover.engine.segmenter import MODEL_SIZE, Segmenter
from remover.engine.weights import MODELS_DIR

OUT = Path(__file__).resolve().parent / "out" / "gpu_throughput.json"


def load(random_weights: bool) -> Segmenter:
    if random_weights:
        with mock.patch("remover.engine.segmenter.load_state_dict", lambda name: ISNet().state_dict()):
            return Segmenter(device="cuda", precision="fp16")
    return Segmenter(device="cuda", precision="fp16")


def rate(step, images_per_step: int, seconds: float) -> float:
    """Images per second of ``step()``, after warm-up, timed for at least ``seconds``."""
    for _ in range(3):  # cuDNN picks its algorithms on the first calls
        step()
    torch.cuda.synchronize()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        done += images_per_step
    torch.cuda.synchronize()
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=10.0, help="timing per measurement")
    parser.add_argument("--random-weights", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("No CUDA device here (torch %s): the GPU figures need a machine with one. "
              "Run: python -m bench.gpu_throughput" % torch.__version__)
        return
    random_weights = args.random_weights or not (MODELS_DIR / "isnet-general.safetensors").exists()
    segmenter = load(random_weights)
    card = torch.cuda.get_device_name(0)
    photo = np.random.default_rng(0).integers(0, 256, (MODEL_SIZE, MODEL_SIZE, 3), dtype=np.uint8)
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        inputs = torch.rand(batch, 3, MODEL_SIZE, MODEL_SIZE) - 0.5
        torch.cuda.reset_peak_memory_stats()
        forward = rate(lambda: segmenter.forward(inputs), batch, args.seconds)
        predict = rate(lambda: segmenter.predict([photo] * batch, batch_size=batch), batch, args.seconds)
        rows.append({
            "batch": batch, "forward_images_per_s": forward, "predict_images_per_s": predict,
            "peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 1e9,
        })
        print(json.dumps(rows[-1]), flush=True)
    report = {"environment": describe(), "card": card, "dtype": str(segmenter.dtype),
              "random_weights": random_weights, "rows": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"{card}, fp16, 1024², weights: {'random' if random_weights else 'isnet-general'}")
    print("| batch | forward (images/s) | predict (images/s) | peak GPU memory (GB) |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['batch']} | {row['forward_images_per_s']:.1f} | {row['predict_images_per_s']:.1f} "
              f"| {row['peak_gpu_memory_gb']:.2f} |")


if __name__ == "__main__":
    main()
