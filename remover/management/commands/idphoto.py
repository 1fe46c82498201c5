"""``manage.py idphoto``: passport / ID photos from the command line.

Exit codes: 0 every photo was made and passes every check; 1 a photo could not be made or
fails a check (each is reported on stderr, the others are still written); 2 bad arguments.
"""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remover.engine.imageio import ImageError, decode_image
from remover.engine.weights import WeightsError
from remover.idphoto.errors import IdPhotoError
from remover.idphoto.pipeline import make_id_photo
from remover.idphoto.presets import get_preset, load_presets
from remover.idphoto.sheet import PAPERS, make_sheet, sheet_bytes
from remover.management.commands.removebg import collect_inputs
from remover.processing.segmentation import configured_segmenter


class Command(BaseCommand):
    help = "Make passport / ID photos: <stem>.jpg and a <stem>.json compliance report per input."

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="*", help="image files or folders of images")
        parser.add_argument("--preset", default="icao",
                            help="document: one of the keys shown by --list, or custom:WxHmm / custom:WxHpx")
        parser.add_argument("--out", help="output folder (created if missing)")
        parser.add_argument("--sheet", choices=sorted(PAPERS), action="append", default=[],
                            help="also write a print sheet <stem>-sheet-<paper>.jpg and .pdf (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the documents and exit")

    def handle(self, *args, **opts):
        if opts["list"]:
            for key, preset in load_presets().items():
                self.stdout.write(f"{key:10} {preset.name}  [{preset.source}]")
            return
        if not opts["inputs"] or not opts["out"]:
            raise CommandError("give one or more INPUT files or folders and --out DIR", returncode=2)
        try:
            preset = get_preset(opts["preset"])
        except IdPhotoError as exc:
            raise CommandError(str(exc), returncode=2)
        inputs = collect_inputs(opts["inputs"])
        if not inputs:
            raise CommandError("no input images found", returncode=2)
        out_dir = Path(opts["out"])
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            segmenter = configured_segmenter()
        except WeightsError as exc:
            raise CommandError(str(exc))

        problems = 0
        for index, path in enumerate(inputs, 1):
            prefix = f"[{index}/{len(inputs)}] {path}"
            try:
                decoded = decode_image(path, max_megapixels=settings.CLEARCUT_MAX_MEGAPIXELS)
                result = make_id_photo(decoded, preset, segmenter)
            except (ImageError, IdPhotoError, OSError) as exc:
                problems += 1
                self.stderr.write(f"{prefix}: {exc}")
                continue
            (out_dir / f"{path.stem}.jpg").write_bytes(result.jpeg)
            (out_dir / f"{path.stem}.json").write_text(json.dumps(result.report, indent=2, ensure_ascii=False))
            for paper in opts["sheet"]:
                sheet, _ = make_sheet(result.image, preset, paper)
                for fmt in ("jpg", "pdf"):
                    (out_dir / f"{path.stem}-sheet-{paper}.{fmt}").write_bytes(sheet_bytes(sheet, fmt))
            if result.passed:
                self.stdout.write(f"{prefix}: passes {preset.name}")
            else:
                problems += 1
                failed = [c for c in result.report["checks"] if not c["passed"]]
                self.stderr.write(f"{prefix}: written, but fails {len(failed)} check(s):")
                for check in failed:
                    self.stderr.write(f"  - {check['label']}: {check['message']}")
        if problems:
            sys.exit(1)
