"""Full-resolution boundary detail (refine.refine_boundary), measured by simulation.

The alpha-matting photos (~800 px) are smaller than the model's 1024 canvas, so a large
photo is simulated by shrinking the canvas instead: the global pass runs at SIZE (256 or
384: the same 3-4x gap as 1024 against a 12 MP photo), its map is enlarged to the photo
as for a real large photo, then the boundary is re-segmented in SIZE x SIZE tiles at the
photo's own resolution. Both are scored against the true alpha.

    python -m bench.detail [--split tune|confirm|all] [--sizes 256,384]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from bench import datasets
from bench.environment import describe
from bench.metrics import alpha_metrics
from remover.engine.refine import (
    boundary_windows,
    full_resolution_alpha,
    refine_boundary,
    snap_sure,
)
from remover.engine.segmenter import Segmenter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="all", choices=("all", *datasets.HALVES))
    parser.add_argument("--sizes", default="256,384")
    args = parser.parse_args()
    print(describe())
    for size in map(int, args.sizes.split(",")):
        segmenter = Segmenter(size=size)
        rows: dict[str, list[dict[str, float]]] = {"global pass only": [], "global + boundary tiles": []}
        tiles, seconds = [], 0.0
        for photo, truth in datasets.iterate("alphamatting", split=args.split):
            rgb = np.asarray(Image.open(photo).convert("RGB"))
            h, w = truth.shape
            alpha = full_resolution_alpha(snap_sure(segmenter.predict([rgb])[0]), w, h)  # as cut_out
            start = time.perf_counter()
            refined = refine_boundary(rgb, alpha, segmenter.predict_windows, size)
            seconds += time.perf_counter() - start
            tiles.append(len(boundary_windows(alpha, size)))
            rows["global pass only"].append(alpha_metrics(alpha, truth))
            rows["global + boundary tiles"].append(alpha_metrics(refined, truth))
        print(f"\ncanvas {size} px, {len(tiles)} photos ({args.split}); tiles per photo {np.mean(tiles):.1f}, "
              f"{seconds / len(tiles):.2f} s per photo for the tiles")
        print(f"{'':<28}{'MAE':>8}{'edge MAE':>10}")
        for name, scores in rows.items():
            print(f"{name:<28}{np.mean([s['mae'] for s in scores]):>8.4f}{np.mean([s['edge_mae'] for s in scores]):>10.4f}")
        base, tiled = (np.mean([s["edge_mae"] for s in rows[k]]) for k in rows)
        print(f"edge MAE change: {100 * (tiled / base - 1):+.1f}%")


if __name__ == "__main__":
    main()
