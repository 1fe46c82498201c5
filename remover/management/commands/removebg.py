import logging
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remover.engine.imageio import OUTPUT_FORMATS, ImageError, decode_image
from remover.engine.pipeline import Background, remove_background
from remover.engine.weights import WeightsError
from remover.processing.segmentation import configured_segmenter

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff", ".bmp", ".gif"}


def collect_inputs(paths: list[str]) -> list[Path]:
    """Files as given, plus image files found (sorted, recursively) inside given folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


class Command(BaseCommand):
    help = "Remove the background of images: files and folders in, <stem>.<format> files out."

    def run_from_argv(self, argv):
        """Django's, then leave without the interpreter's teardown.

        Unloading torch takes about 0.6 s on the 2-core machine, more than decoding a 12 MP
        photo (BENCHMARKS.md, "Phone-size photos"); by then every output is written and
        closed. Only the command line comes here; ``call_command`` returns as usual.
        """
        try:
            super().run_from_argv(argv)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="+", help="image files or folders of images")
        parser.add_argument("--out", required=True, help="output folder (created if missing)")
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="png")
        parser.add_argument(
            "--bg", default="transparent",
            help="transparent (default), blur, a colour like #RRGGBB, or the path of a background image",
        )
        parser.add_argument("--mask", action="store_true", help="write the alpha mask only (greyscale)")
        parser.add_argument("--quality", choices=("fast", "best"), default="fast",
                            help="best: average with the mirrored image for finer hair (about 2x slower)")

    def handle(self, *args, **opts):
        out_dir = Path(opts["out"])
        out_dir.mkdir(parents=True, exist_ok=True)
        max_mp = settings.CLEARCUT_MAX_MEGAPIXELS
        try:
            background = Background(kind="mask") if opts["mask"] else Background.parse(
                opts["bg"], scene_loader=lambda p: decode_image(Path(p), max_megapixels=max_mp).rgb
            )
        except (ValueError, OSError) as exc:
            raise CommandError(f"--bg: {exc}")
        inputs = collect_inputs(opts["inputs"])
        if not inputs:
            raise CommandError("no input images found")
        missing = [str(p) for p in inputs if not p.is_file()]
        if len(missing) == len(inputs):
            raise CommandError(f"no such file: {', '.join(missing)}")
        try:
            segmenter = configured_segmenter(flip=opts["quality"] == "best")
        except WeightsError as exc:
            raise CommandError(str(exc))

        failures = 0
        for index, path in enumerate(inputs, 1):
            target = out_dir / f"{path.stem}.{opts['format']}"
            prefix = f"[{index}/{len(inputs)}] {path}"

            def show(stage: str, percent: int, prefix=prefix) -> None:
                bar = "#" * (percent // 5)
                self.stdout.write(f"\r{prefix} [{bar:<20}] {percent:3d}% {stage:<12}", ending="")
                self.stdout.flush()

            try:
                data = remove_background(
                    path, segmenter, background, fmt=opts["format"], max_megapixels=max_mp, progress=show
                )
            except (ImageError, OSError) as exc:
                failures += 1
                self.stdout.write("")
                reason = "no such file" if not path.is_file() else str(exc)
                self.stderr.write(f"{path}: {reason}")
                continue
            target.write_bytes(data)
            self.stdout.write(f"\r{prefix} -> {target}{' ' * 20}")
        if failures:
            raise CommandError(f"{failures} of {len(inputs)} images failed")
