"""Face landmark accuracy, the face checks and ID photo geometry on ../shared/eval/faces.

    python -m bench.faces                  # accuracy, face checks, ID photos for us, uk, schengen
    python -m bench.faces --no-photos      # accuracy and face checks only (a minute instead of many)

Every table is given for the whole set and for its *tune* and *confirm* halves
(bench/splits/faces-*.txt): the chin offset and the face checks' frontal pitch were set on
*tune*; *confirm* only reports.

Accuracy: each eye's error is the distance from the detected eye centre to the annotated pupil,
as a fraction of the annotated inter-pupil distance; median and 95th percentile over all eyes,
and over each photo's worse eye. Candidates:

- ``mesh+iris``: what Clearcut ships (remover.idphoto.faces): BlazeFace, the 468-point mesh,
  the pupil from the iris model.
- ``mesh eye centre``: the same mesh, eye centre = middle of the four eyelid and corner points.
- ``haar``: OpenCV's bundled Haar cascades, eye centre = centre of the eye box (no chin).

Ground truth (.tem files): points 0 and 1 are the pupils for london_* and lisa_lisa1..4. The
lisa_zoom_* files use another (83-point) template whose order is shuffled; their only isolated
points are two pairs near each eye, 63/57 and 81/50. Points 63 and 81 are the pupils: on all four
photos they are the ones nearer the centroid of the darkest iris pixels (2–10 px against 3–13 px
for 57/50). Chin: point 129 (london), 18 (lisa), 6 (lisa_zoom), each the middle of the jaw line.

Face checks (remover.idphoto.quality) on each portrait levelled by its own roll (the pipeline
levels every photo), and on variants of it that must fail one check each: turned 6° in-plane
(eyes_level), blurred by 3 % of the inter-pupil distance (sharpness), the half left of the nose
darkened to 50 % (lighting); and downscaled to 35 px between the pupils, which must fail none of
them (that is the resolution check's job, measured on the ID photos).

ID photos: every photo is made for the US, UK and Schengen presets (outputs in
bench/out/faces/<preset>/); its report, measured afresh on the output, must pass every geometry
check and every face check. The checks about the source photo (the head cut off at its top
edge, padding, background, resolution) are counted apart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from bench.datasets import EVAL_DIR, split_stems
from bench.environment import describe
from remover.engine.imageio import decode_image
from remover.engine.pipeline import shared_segmenter
from remover.idphoto import faces, quality
from remover.idphoto.errors import IdPhotoError
from remover.idphoto.pipeline import make_id_photo
from remover.idphoto.presets import get_preset

OUT = Path(__file__).resolve().parent / "out" / "faces"
PRESETS = ("us", "uk", "schengen")
# The checks about where the head and eyes are, as opposed to the face itself (quality.RULES),
# the source photo (head cut off in it, padding, background, resolution) or the file.
GEOMETRY_CHECKS = ("one_face", "head_height", "eye_line", "crown_gap", "eyes_level")
FACE_CHECKS = tuple(name for name in quality.RULES if name != "eyes_level")
VARIANTS = {"turned 6°": {"eyes_level"}, "blurred": {"sharpness"}, "half darkened": {"lighting"}, "downscaled": set()}
HALVES = ("all", "tune", "confirm")


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


def mesh_eye_centres(face: faces.Face) -> np.ndarray:
    """(2, 2) middle of each eye's corners and lid midpoints, left of image first."""
    centres = [face.mesh[list(corners + lids), :2].mean(0) for corners, lids in
               ((faces.LEFT_EYE_CORNERS, faces.LEFT_EYELIDS), (faces.RIGHT_EYE_CORNERS, faces.RIGHT_EYELIDS))]
    return np.array(sorted(centres, key=lambda p: p[0]))


def eye_summary(errors: list[np.ndarray]) -> str:
    if not errors:
        return "no photo"
    per_eye = np.concatenate(errors) * 100
    worse = np.array([e.max() for e in errors]) * 100
    return (f"median {np.median(per_eye):.2f} %  p95 {np.percentile(per_eye, 95):.2f} %  max {per_eye.max():.2f} %"
            f" | worse eye median {np.median(worse):.2f} %  p95 {np.percentile(worse, 95):.2f} %")


def halves(stems: list[str]) -> dict[str, set[str]]:
    return {"all": set(stems), "tune": set(split_stems("faces", "tune")), "confirm": set(split_stems("faces", "confirm"))}


def accuracy(photos: list[Path]) -> None:
    """Eye and chin errors and the detection + landmark time, per candidate and half."""
    rows = []
    for path in photos:
        rgb = decode_image(path).rgb
        pupils, chin = truth(path.stem)
        ipd = float(np.linalg.norm(pupils[1] - pupils[0]))
        start = time.perf_counter()
        detected = faces.find_faces(rgb)
        row = {"stem": path.stem, "seconds": time.perf_counter() - start, "found": len(detected)}
        if len(detected) == 1:
            face = detected[0]
            row["mesh+iris"] = np.linalg.norm(face.eyes - pupils, axis=1) / ipd
            row["mesh eye centre"] = np.linalg.norm(mesh_eye_centres(face) - pupils, axis=1) / ipd
            row["chin"] = float(np.linalg.norm(face.chin - chin) / ipd)
        count, haar = haar_eyes(rgb)
        row["haar found"] = count
        if count == 1 and haar is not None:
            row["haar"] = np.linalg.norm(haar - pupils, axis=1) / ipd
        rows.append(row)
    split = halves([p.stem for p in photos])
    print("\nEye error as % of the annotated inter-pupil distance")
    for half in HALVES:
        chosen = [r for r in rows if r["stem"] in split[half]]
        n = len(chosen)
        print(f"  [{half}, {n} photos]")
        found = sum(r["found"] == 1 for r in chosen)
        for name in ("mesh+iris", "mesh eye centre", "haar"):
            rate = sum(r["haar found"] == 1 for r in chosen) if name == "haar" else found
            print(f"    {name:16} exactly one face {rate}/{n} | {eye_summary([r[name] for r in chosen if name in r])}")
        chins = np.array([r["chin"] for r in chosen if "chin" in r]) * 100
        seconds = np.array([r["seconds"] for r in chosen])
        print(f"    chin             median {np.median(chins):.2f} %  p95 {np.percentile(chins, 95):.2f} %  max {chins.max():.2f} %")
        print(f"    detection + landmarks: median {1000 * np.median(seconds):.0f} ms, max {1000 * seconds.max():.0f} ms")


def level(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D(tuple(face.eyes.mean(0)), face.roll_degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def variant(name: str, rgb: np.ndarray, face: faces.Face) -> np.ndarray:
    """One of VARIANTS of a levelled portrait ``rgb`` whose face is ``face``."""
    h, w = rgb.shape[:2]
    if name == "turned 6°":
        matrix = cv2.getRotationMatrix2D(tuple(face.eyes.mean(0)), -6.0, 1.0)
        return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    if name == "blurred":
        return cv2.GaussianBlur(rgb, (0, 0), 0.03 * face.eye_distance)
    if name == "half darkened":
        darker = rgb.astype(np.float32)
        darker[:, :round(float(face.mesh[faces.NOSE_TIP, 0]))] *= 0.5
        return darker.astype(np.uint8)
    scale = 35.0 / face.eye_distance
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def face_checks(photos: list[Path]) -> bool:
    """Face checks on each levelled portrait and its variants; True when every portrait passes
    and every variant fails exactly its own check."""
    measures: dict[str, quality.FaceQuality] = {}
    outcome: dict[str, dict[str, set[str]]] = {name: {} for name in VARIANTS}
    for path in photos:
        rgb = decode_image(path).rgb
        levelled = level(rgb, faces.find_one_face(rgb))
        face = faces.find_one_face(levelled)
        measures[path.stem] = quality.measure(levelled, face)
        for name in VARIANTS:
            changed = variant(name, levelled, face)
            found = faces.find_faces(changed)
            outcome[name][path.stem] = quality.measure(changed, found[0]).failed() if len(found) == 1 else {"no face"}
    split = halves([p.stem for p in photos])
    ok = True
    print("\nFace checks on the levelled portraits: measured range [min, max] and failures")
    for half in HALVES:
        chosen = [s for s in measures if s in split[half]]
        print(f"  [{half}, {len(chosen)} photos]")
        for check, rule in quality.RULES.items():
            values = np.array([measures[s].values()[check] for s in chosen])
            fails = sum(check in measures[s].failed() for s in chosen)
            ok &= fails == 0
            print(f"    {check:13} {values.min():+8.3f} .. {values.max():+8.3f}  allowed [{rule.low}, {rule.high}]"
                  f"  failed {fails}/{len(chosen)}")
        for name, expected in VARIANTS.items():
            exact = sum(outcome[name][s] == expected for s in chosen)
            ok &= exact == len(chosen)
            wrong = {s: sorted(outcome[name][s]) for s in chosen if outcome[name][s] != expected}
            print(f"    variant {name:14} fails exactly {sorted(expected) or 'nothing'}: {exact}/{len(chosen)}"
                  + (f"  otherwise {wrong}" if wrong else ""))
    return ok


def id_photos(photos: list[Path]) -> bool:
    segmenter = shared_segmenter()
    failures = 0
    other: dict[str, int] = {}
    print(f"\nID photos ({', '.join(PRESETS)}): geometry checks {', '.join(GEOMETRY_CHECKS)}; "
          f"face checks {', '.join(FACE_CHECKS)}")
    split = halves([p.stem for p in photos])
    for key in PRESETS:
        preset = get_preset(key)
        folder = OUT / key
        folder.mkdir(parents=True, exist_ok=True)
        passed: set[str] = set()
        seconds, heads, eye_lines, tilts = [], [], [], []
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
            bad = [checks[c] for c in GEOMETRY_CHECKS + FACE_CHECKS if c in checks and not checks[c]["passed"]]
            if result.report["measurements"]["measured_on"] != "output photo":
                bad.append({"id": "remeasure", "value": result.report["measurements"]["measured_on"], "allowed": "found"})
            for check in result.report["checks"]:
                if not check["passed"] and check["id"] not in GEOMETRY_CHECKS + FACE_CHECKS:
                    other[check["id"]] = other.get(check["id"], 0) + 1
            if bad:
                failures += 1
                print(f"  {key} {path.stem}: " + "; ".join(f"{c['id']} {c['value']} not in {c['allowed']}" for c in bad))
            else:
                passed.add(path.stem)
            heads.append(checks["head_height"]["value"])
            if "eye_line" in checks:
                eye_lines.append(checks["eye_line"]["value"])
            tilts.append(abs(checks["eyes_level"]["value"] or 0.0))
        counts = ", ".join(f"{half} {len(passed & split[half])}/{len(split[half] & {p.stem for p in photos})}"
                           for half in HALVES)
        print(f"  {key:9} pass every geometry and face check: {counts}; head {spread(heads)} mm; "
              f"eye line {spread(eye_lines)} mm; tilt max {max(tilts):.1f}°; median {np.median(seconds):.1f} s per photo")
    if other:
        print("  source-photo checks flagged, all presets: "
              + ", ".join(f"{name} {count}" for name, count in sorted(other.items())))
    return failures == 0


def spread(values: list[float]) -> str:
    """min / median / max, one decimal."""
    return f"{min(values):.1f} / {np.median(values):.1f} / {max(values):.1f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-photos", action="store_true", help="accuracy and face checks only; skip making ID photos")
    parser.add_argument("--limit", type=int, help="first N photos only")
    args = parser.parse_args()
    photos = sorted((EVAL_DIR / "faces" / "images").glob("*.jpg"))[: args.limit]
    if not photos:
        raise SystemExit(f"no photos in {EVAL_DIR / 'faces' / 'images'}: set CLEARCUT_EVAL_DIR")
    print(describe())
    accuracy(photos)
    ok = face_checks(photos)
    if not args.no_photos:
        ok &= id_photos(photos)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
