"""Quality and end-to-end speed of Clearcut against rembg on the same weights, in one run.

For every photo each contestant goes from the file on disk to a PNG written to
bench/out/<contestant>/; we time that and score the PNG's alpha against the truth, and
what the user sees: the PNG's own colours and alpha composited on white, black and blue
against the same composite of the true alpha (bench.metrics.composite_metrics). Photos
where our MAE is more than GUARD_MAE above rembg's are listed by name (the per-photo guard).

    python -m bench.quality                       # both sets, every image
    python -m bench.quality --split tune          # the half every choice is made on
    python -m bench.quality --split confirm       # the half that only reports
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
from remover.engine.heap import keep_freed_memory
from bench.metrics import alpha_metrics, composite_metrics, reference_foreground
from remover.engine.pipeline import remove_background
from remover.engine.segmenter import Segmenter

OUT = Path(__file__).resolve().parent / "out"
# A photo whose MAE is this much above rembg's is a visible regression, whatever the mean says.
GUARD_MAE = 0.02


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
    parser.add_argument("--split", default="all", choices=("all", *datasets.HALVES),
                        help="the fixed half of each set to run (bench/splits/)")
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--ablations", default="", help="comma-separated: fp32,letterbox,stretch,minmax,flip")
    parser.add_argument("--no-peer", action="store_true", help="skip rembg")
    parser.add_argument("--no-alpha-matting", action="store_true", help="skip rembg alpha_matting (the slow peer)")
    parser.add_argument("--dim-only", action="store_true",
                        help="only photos whose brightest pixel is below 255 (where a min-max stretch changes anything)")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    keep_freed_memory()  # as every Clearcut process does (RemoverConfig.ready); rembg gets it too
    runs = contestants(args)
    print(describe())
    report = {"environment": describe(), "split": args.split, "sets": {}}
    for set_name in args.sets.split(","):
        pairs = list(datasets.iterate(set_name, args.limit, args.split))
        if args.dim_only:
            pairs = [(p, t) for p, t in pairs if np.asarray(Image.open(p).convert("RGB")).max() < 255]
        warm_up(runs, pairs[0][0])
        scores = {name: {} for name in runs}
        for photo, truth in pairs:
            rgb = np.asarray(Image.open(photo).convert("RGB"))
            reference = reference_foreground(rgb, truth)
            for name, run in runs.items():
                target = OUT / name.split(" (")[0].replace(" ", "-") / set_name / f"{photo.stem}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                start = time.perf_counter()
                run(photo, target)
                seconds = time.perf_counter() - start
                rgba = np.asarray(Image.open(target).convert("RGBA"))
                pred = rgba[..., 3].astype(np.float32) / 255.0
                scores[name][photo.stem] = {
                    **alpha_metrics(pred, truth), **composite_metrics(rgba, rgb, truth, reference), "seconds": seconds,
                }
        summary = {name: {k: float(np.mean([row[k] for row in rows.values()])) for k in next(iter(rows.values()))}
                   for name, rows in scores.items()}
        guard = guarded(scores)
        report["sets"][set_name] = {"summary": summary, "guard": guard, "photos": scores}
        print_table(set_name, len(pairs), summary)
        print_guard(guard)
    name = "quality.json" if args.split == "all" else f"quality-{args.split}.json"
    (OUT / name).write_text(json.dumps(report, indent=2))


def guarded(scores: dict[str, dict[str, dict[str, float]]]) -> dict[str, list[tuple[str, float, float]]]:
    """Per contestant: the photos (stem, its MAE, rembg's) where its MAE exceeds rembg's by over GUARD_MAE."""
    peer = scores.get("rembg")
    if peer is None:
        return {}
    return {
        name: [(stem, s["mae"], peer[stem]["mae"]) for stem, s in rows.items() if s["mae"] - peer[stem]["mae"] > GUARD_MAE]
        for name, rows in scores.items() if not name.startswith("rembg")
    }


def print_guard(guard: dict[str, list[tuple[str, float, float]]]) -> None:
    for name, photos in guard.items():
        listed = ", ".join(f"{stem} ({mae:.4f} vs {peer:.4f})" for stem, mae, peer in photos) or "none"
        print(f"{name}: photos more than {GUARD_MAE} MAE above rembg: {listed}")


def print_table(set_name: str, count: int, summary: dict[str, dict[str, float]]) -> None:
    peer, am = summary.get("rembg"), summary.get("rembg alpha_matting")
    print(f"\n{set_name} ({count} photos); comp = composite error on white/black/blue, levels 0-255")
    header = (f"{'contestant':<32}{'MAE':>8}{'IoU':>8}{'edge MAE':>10}{'comp':>7}{'comp edge':>11}"
              f"{'hue':>6}{'s/img':>7}")
    if peer:
        header += f"{'MAE/rembg':>11}{'edge/rembg':>12}{'comp edge/rembg':>17}{'time/rembg':>12}"
    if am:
        header += f"{'edge/rembg-am':>15}{'rembg-am/time':>15}"
    print(header)
    for name, s in summary.items():
        line = (f"{name:<32}{s['mae']:>8.4f}{s['iou']:>8.4f}{s['edge_mae']:>10.4f}{s['comp']:>7.2f}"
                f"{s['comp_edge']:>11.2f}{s['hue_shift']:>6.2f}{s['seconds']:>7.2f}")
        if peer:
            line += (f"{s['mae'] / peer['mae']:>11.3f}{s['edge_mae'] / peer['edge_mae']:>12.3f}"
                     f"{s['comp_edge'] / peer['comp_edge']:>17.3f}{s['seconds'] / peer['seconds']:>12.3f}")
        if am:
            line += f"{s['edge_mae'] / am['edge_mae']:>15.3f}{am['seconds'] / s['seconds']:>15.2f}"
        print(line)
    reference = next(iter(summary.values()))["ref_hue_shift"]
    print(f"hue = hue shift in degrees where the true alpha >= 0.5; the reference's own: {reference:.2f}")


if __name__ == "__main__":
    main()
