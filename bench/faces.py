"""Face landmark accuracy on ../shared/eval/faces, and ID photo geometry on every one of them.

    python -m bench.faces                  # accuracy of each candidate + ID photos for us, uk, schengen
    python -m bench.faces --no-photos      # accuracy only (seconds instead of minutes)

Accuracy: each eye's error is the distance from the detected eye centre to the annotated pupil,
as a fraction of the annotated inter-pupil distance; median and 95th percentile over all eyes,
and over each photo's worse eye. Candidates:

- ``dlib68+pupil``: what Clearcut ships (remover.idphoto.faces): dlib HOG detector, 68-point
  shape predictor, eye centre moved to the dark iris disc inside the eye contour.
- ``dlib68 contour``: the same landmarks, eye centre = mean of the six eye-contour points.
- ``haar``: OpenCV's bundled Haar cascades, eye centre = centre of the eye box (no chin).

Ground truth (.tem files): points 0 and 1 are the pupils for london_* and lisa_lisa1..4. The
lisa_zoom_* files use another (83-point) template whose order is shuffled; their only isolated
points are two pairs near each eye, 63/57 and 81/50. Points 63 and 81 are the pupils: on all four
photos they are the ones nearer the centroid of the darkest iris pixels (2–10 px against 3–13 px
for 57/50). Chin: point 129 (london), 18 (lisa), 6 (lisa_zoom), each the middle of the jaw line.

ID photos: every photo is made for the US, UK and Schengen presets (outputs in
bench/out/faces/<preset>/); its report's geometry checks, measured afresh on the output, must
all pass.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from bench.datasets import EVAL_DIR
from bench.environment import describe
from remover.engine.imageio import decode_image
from remover.engine.pipeline import shared_segmenter
from remover.idphoto import faces
from remover.idphoto.errors import IdPhotoError
from remover.idphoto.pipeline import make_id_photo
from remover.idphoto.presets import get_preset

OUT = Path(__file__).resolve().parent / "out" / "faces"
PRESETS = ("us", "uk", "schengen")
# The checks about where the head and eyes are, as opposed to the source photo's quality
# (padding, background, resolution) or the file.
GEOMETRY_CHECKS = ("head_height", "eye_line", "crown_gap", "eyes_level")


def read_tem(path: Path) -> np.ndarray:
    """(N, 2) points of a Psychomorph .tem file: first line N, then N lines 'x<TAB>y'."""
    lines = path.read_text().split("\n")
    count = int(lines[0])
    return np.array([[float(v) for v in lines[1 + i].split()[:2]] for i in range(count)])


def truth(stem: str) -> tuple[np.ndarray, np.ndarray]:
    """((2, 2) pupils left of image first, (2,) chin) from the photo's .tem file (see module doc)."""
    points = read_tem(EVAL_DIR / "faces" / "landmarks" / f"{stem}.tem")
    if stem.startswith("lisa_zoom"):
        pupils, chin = points[[63, 81]], points[6]
    elif stem.startswith("lisa"):
        pupils, chin = points[[0, 1]], points[18]
    else:
        pupils, chin = points[[0, 1]], points[129]
    return pupils[np.argsort(pupils[:, 0])], chin


def haar_eyes(rgb: np.ndarray) -> tuple[int, np.ndarray | None]:
    """(faces found, (2, 2) eye-box centres or None) with OpenCV's bundled cascades."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    face_cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    eye_cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")
    found = face_cascade.detectMultiScale(gray, 1.1, 5, minSize=(60, 60))
    if len(found) == 0:
        return 0, None
    x, y, w, h = max(found, key=lambda f: f[2] * f[3])
    eyes = eye_cascade.detectMultiScale(gray[y:y + h * 6 // 10, x:x + w], 1.05, 4)
    if len(eyes) < 2:
        return len(found), None
    two = sorted(eyes, key=lambda e: -e[2] * e[3])[:2]
    centres = np.array([[x + ex + ew / 2.0, y + ey + eh / 2.0] for ex, ey, ew, eh in two])
    return len(found), centres[np.argsort(centres[:, 0])]


def summary(errors: list[np.ndarray]) -> str:
    per_eye = np.concatenate(errors) * 100
    worse = np.array([e.max() for e in errors]) * 100
    return (f"per eye median {np.median(per_eye):.2f} %  p95 {np.percentile(per_eye, 95):.2f} %  max {per_eye.max():.2f} %"
            f" | worse eye median {np.median(worse):.2f} %  p95 {np.percentile(worse, 95):.2f} %")


def accuracy(photos: list[Path]) -> None:
    found = {"dlib68+pupil": 0, "haar": 0}
    errors: dict[str, list[np.ndarray]] = {"dlib68+pupil": [], "dlib68 contour": [], "haar": []}
    chin_errors, seconds = [], []
    for path in photos:
        rgb = decode_image(path).rgb
        pupils, chin = truth(path.stem)
        ipd = float(np.linalg.norm(pupils[1] - pupils[0]))
        start = time.perf_counter()
        detected = faces.find_faces(rgb)
        seconds.append(time.perf_counter() - start)
        if len(detected) == 1:
            found["dlib68+pupil"] += 1
            face = detected[0]
            errors["dlib68+pupil"].append(np.linalg.norm(face.eyes - pupils, axis=1) / ipd)
            contour = np.array([face.points[faces.LEFT_EYE].mean(0), face.points[faces.RIGHT_EYE].mean(0)])
            contour = contour[np.argsort(contour[:, 0])]
            errors["dlib68 contour"].append(np.linalg.norm(contour - pupils, axis=1) / ipd)
            chin_errors.append(np.linalg.norm(face.chin - chin) / ipd)
        count, haar = haar_eyes(rgb)
        if count == 1 and haar is not None:
            found["haar"] += 1
            errors["haar"].append(np.linalg.norm(haar - pupils, axis=1) / ipd)
    n = len(photos)
    print(f"\n{n} photos; eye error as % of the inter-pupil distance")
    for name, errs in errors.items():
        rate = found["dlib68+pupil" if name.startswith("dlib") else name]
        print(f"  {name:15} exactly one face {rate}/{n} ({100 * rate / n:.1f} %) | {summary(errs)}")
    chin = np.array(chin_errors) * 100
    print(f"  chin (dlib68)   median {np.median(chin):.2f} %  p95 {np.percentile(chin, 95):.2f} % of the inter-pupil distance")
    print(f"  detection + landmarks: median {1000 * np.median(seconds):.0f} ms per photo")


def id_photos(photos: list[Path]) -> bool:
    segmenter = shared_segmenter()
    failures = 0
    other: dict[str, int] = {}
    print(f"\nID photos ({', '.join(PRESETS)}): geometry checks {', '.join(GEOMETRY_CHECKS)}")
    for key in PRESETS:
        preset = get_preset(key)
        folder = OUT / key
        folder.mkdir(parents=True, exist_ok=True)
        passed, seconds = 0, []
        for path in photos:
            start = time.perf_counter()
            try:
                result = make_id_photo(decode_image(path), preset, segmenter)
            except IdPhotoError as exc:
                failures += 1
                print(f"  {key} {path.stem}: FAILED {exc}")
                continue
            seconds.append(time.perf_counter() - start)
            (folder / f"{path.stem}.jpg").write_bytes(result.jpeg)
            (folder / f"{path.stem}.json").write_text(json.dumps(result.report, indent=2, ensure_ascii=False))
            checks = {c["id"]: c for c in result.report["checks"]}
            bad = [checks[c] for c in GEOMETRY_CHECKS if c in checks and not checks[c]["passed"]]
            if result.report["measurements"]["measured_on"] != "output photo":
                bad.append({"id": "remeasure", "value": "face not found again in the output", "allowed": "found"})
            for check in result.report["checks"]:
                if not check["passed"] and check["id"] not in GEOMETRY_CHECKS:
                    other[check["id"]] = other.get(check["id"], 0) + 1
            if bad:
                failures += 1
                print(f"  {key} {path.stem}: " + "; ".join(f"{c['id']} {c['value']} not in {c['allowed']}" for c in bad))
            else:
                passed += 1
        print(f"  {key:9} {passed}/{len(photos)} pass every geometry check; median {np.median(seconds):.1f} s per photo")
    if other:
        print("  other checks flagged (source photo, not geometry): "
              + ", ".join(f"{name} {count}" for name, count in sorted(other.items())))
    return failures == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-photos", action="store_true", help="accuracy only; skip making ID photos")
    parser.add_argument("--limit", type=int, help="first N photos only")
    args = parser.parse_args()
    photos = sorted((EVAL_DIR / "faces" / "images").glob("*.jpg"))[: args.limit]
    if not photos:
        raise SystemExit(f"no photos in {EVAL_DIR / 'faces' / 'images'}: set CLEARCUT_EVAL_DIR")
    print(describe())
    accuracy(photos)
    if not args.no_photos and not id_photos(photos):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
