"""Phone-size photos through the command line, whole process, against rembg in the same run.

    python -m bench.phone_speed [--megapixels 12 24] [--photos 2]

For each size, ``--photos`` camera-like JPEGs (scikit-image's astronaut enlarged, with
sensor-like noise) are written to a temporary folder. Then, each as a fresh process so that
both pay their start-up and model load:

- clearcut: ``manage.py removebg <photos> --out DIR`` (transparent PNGs);
- rembg: a Python process that opens a ``dis_custom`` session on the same ISNet weights
  (bench/peer_rembg.py) and writes ``remove()``'s PNG for each photo.

Reports seconds for each and the ratio (target: clearcut ≤ 0.6× rembg). Results also go to
bench/out/phone_speed.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.environment import describe
from bench.load import photo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "phone_speed.json"
REMBG = """
import sys
from pathlib import Path
from bench.peer_rembg import RembgPeer
peer = RembgPeer()
out = Path(sys.argv[1])
for name in sys.argv[2:]:
    peer.cutout(Path(name)).save(out / (Path(name).stem + ".png"))
"""


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[12.0, 24.0])
    parser.add_argument("--photos", type=int, default=2)
    args = parser.parse_args()
    from bench.peer_rembg import fp32_onnx_path

    fp32_onnx_path()  # converted once, before anything is timed
    results = {"machine": describe(), "runs": []}
    with tempfile.TemporaryDirectory() as folder:
        for megapixels in args.megapixels:
            data = photo(megapixels)
            inputs = []
            for index in range(args.photos):
                path = Path(folder) / f"phone-{megapixels:g}mp-{index}.jpg"
                path.write_bytes(data)
                inputs.append(str(path))
            ours_out, theirs_out = Path(folder) / "ours", Path(folder) / "theirs"
            ours_out.mkdir(exist_ok=True)
            theirs_out.mkdir(exist_ok=True)
            ours = timed([sys.executable, "manage.py", "removebg", *inputs, "--out", str(ours_out)])
            theirs = timed([sys.executable, "-c", REMBG, str(theirs_out), *inputs])
            run = {"megapixels": megapixels, "photos": args.photos, "clearcut_s": round(ours, 2),
                   "rembg_s": round(theirs, 2), "ratio": round(ours / theirs, 3)}
            results["runs"].append(run)
            print(f"{megapixels:g} MP x{args.photos}: clearcut {ours:.1f} s, rembg {theirs:.1f} s, "
                  f"ratio {ours / theirs:.2f} (target <= 0.6)", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
