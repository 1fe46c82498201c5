"""Quality and end-to-end speed of Clearcut against rembg on the same weights, in one run.

For every photo each contestant goes from the file on disk to a PNG written to
bench/out/<contestant>/; we time that and score the PNG's alpha against the truth.

    python -m bench.quality                       # both sets, every image
    python -m bench.quality --limit 50 --sets ecssd
    python -m bench.quality --sets ecssd --no-alpha-matting   # the full set without the slow peer
    python -m bench.quality --ablations fp32,letterbox,stretch,minmax,flip   # also our pipeline with one change each
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from bench import datasets
from bench.environment import describe
from bench.metrics import alpha_metrics
from remover.engine.pipeline import remove_background
from remover.engine.segmenter import Segmenter

OUT = Path(__file__).resolve().parent / "out"


class MinMaxSegmenter(Segmenter):
    """Ablation: rembg's per-image stretch (input divided by its maximum, output min-max scaled)."""

    def predict(self, images, batch_size: int = 4, progress=None):
        stretched = [np.clip(img.astype(np.float32) * (255.0 / max(int(img.max()), 1)), 0, 255).astype(np.uint8)
                     for img in images]
        out = []
        for prob in super().predict(stretched, batch_size):
            low, high = float(prob.min()), float(prob.max())
            out.append((prob - low) / max(high - low, 1e-6))
        return out


def clearcut(segmenter: Segmenter) -> Callable[[Path, Path], None]:
    def run(photo: Path, target: Path) -> None:
        target.write_bytes(remove_background(photo, segmenter))

    return run


def rembg(alpha_matting: bool) -> Callable[[Path, Path], None]:
    from bench.peer_rembg import RembgPeer

    peer = RembgPeer(alpha_matting=alpha_matting)

    def run(photo: Path, target: Path) -> None:
        peer.cutout(photo).save(target, "PNG")

    return run


def contestants(args) -> dict[str, Callable[[Path, Path], None]]:
    runs = {"clearcut": clearcut(Segmenter())}
    variants = {
        "fp32": ("clearcut fp32", lambda: Segmenter(precision="fp32")),
        "letterbox": ("clearcut letterbox only", lambda: Segmenter(framing="letterbox")),
        "stretch": ("clearcut stretch only", lambda: Segmenter(framing="stretch")),
        "minmax": ("clearcut min-max", MinMaxSegmenter),
        "flip": ("clearcut flip (--quality best)", lambda: Segmenter(flip=True)),
    }
    for key in filter(None, args.ablations.split(",")):
        name, make = variants[key]
        runs[name] = clearcut(make())
    if not args.no_peer:
        runs["rembg"] = rembg(alpha_matting=False)
        if not args.no_alpha_matting:
            runs["rembg alpha_matting"] = rembg(alpha_matting=True)
    return runs


def warm_up(runs: dict[str, Callable[[Path, Path], None]], photo: Path) -> None:
    for name, run in runs.items():
        run(photo, OUT / "warmup.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(datasets.SETS))
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--ablations", default="", help="comma-separated: fp32,letterbox,stretch,minmax,flip")
    parser.add_argument("--no-peer", action="store_true", help="skip rembg")
    parser.add_argument("--no-alpha-matting", action="store_true", help="skip rembg alpha_matting (the slow peer)")
    parser.add_argument("--dim-only", action="store_true",
                        help="only photos whose brightest pixel is below 255 (where a min-max stretch changes anything)")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    runs = contestants(args)
    print(describe())
    report = {"environment": describe(), "sets": {}}
    for set_name in args.sets.split(","):
        pairs = list(datasets.iterate(set_name, args.limit))
        if args.dim_only:
            pairs = [(p, t) for p, t in pairs if np.asarray(Image.open(p).convert("RGB")).max() < 255]
        warm_up(runs, pairs[0][0])
        scores = {name: [] for name in runs}
        for photo, truth in pairs:
            for name, run in runs.items():
                target = OUT / name.split(" (")[0].replace(" ", "-") / set_name / f"{photo.stem}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                start = time.perf_counter()
                run(photo, target)
                seconds = time.perf_counter() - start
                pred = datasets.read_alpha(target)
                scores[name].append({**alpha_metrics(pred, truth), "seconds": seconds})
        report["sets"][set_name] = summary = {
            name: {k: float(np.mean([s[k] for s in rows])) for k in rows[0]} for name, rows in scores.items()
        }
        print_table(set_name, len(pairs), summary)
    (OUT / "quality.json").write_text(json.dumps(report, indent=2))


def print_table(set_name: str, count: int, summary: dict[str, dict[str, float]]) -> None:
    peer, am = summary.get("rembg"), summary.get("rembg alpha_matting")
    print(f"\n{set_name} ({count} photos)")
    header = f"{'contestant':<32}{'MAE':>8}{'IoU':>8}{'edge MAE':>10}{'s/img':>8}"
    if peer:
        header += f"{'MAE/rembg':>11}{'edge/rembg':>12}{'time/rembg':>12}"
    if am:
        header += f"{'edge/rembg-am':>15}{'rembg-am/time':>15}"
    print(header)
    for name, s in summary.items():
        line = f"{name:<32}{s['mae']:>8.4f}{s['iou']:>8.4f}{s['edge_mae']:>10.4f}{s['seconds']:>8.2f}"
        if peer:
            line += (f"{s['mae'] / peer['mae']:>11.3f}{s['edge_mae'] / peer['edge_mae']:>12.3f}"
                     f"{s['seconds'] / peer['seconds']:>12.3f}")
        if am:
            line += f"{s['edge_mae'] / am['edge_mae']:>15.3f}{am['seconds'] / s['seconds']:>15.2f}"
        print(line)


if __name__ == "__main__":
    main()
