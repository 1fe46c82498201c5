"""The ID photo endpoints of the JSON API (jobs are created by ``POST /api/jobs`` with
``mode=idphoto&preset=NAME``, see remover/web/page_api.py):

- ``GET /api/idphoto/presets``: the documents, grouped by country, with their sizes and rules.
- ``GET /api/jobs/<id>/idphoto``: the finished photo, a JPEG at the document's pixel size.
- ``GET /api/jobs/<id>/sheet?sheet=4x6|a4&format=jpg|pdf``: a print sheet of copies.

Like every job endpoint they answer the job's owner only; to anyone else it does not exist.
"""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from PIL import Image

from remover.idphoto.jpeg import encode_jpeg
from remover.idphoto.presets import Preset
from remover.idphoto.sheet import PAPERS, make_sheet, sheet_bytes
from remover.models import Job
from remover.processing import idphoto_jobs, jobs
from remover.web.limits import Refused
from remover.web.owners import owned_jobs
from remover.web.page_api import NOT_FOUND, api_view


@api_view("GET")
def presets(request):
    """The documents for ``preset=NAME``, and the print sheets every ID photo gets."""
    return JsonResponse({
        "documents": idphoto_jobs.catalogue(),
        "custom": idphoto_jobs.CUSTOM_SIZES,
        "sheets": [{"key": key, "name": paper.name, "formats": list(idphoto_jobs.SHEET_TYPES)}
                   for key, paper in PAPERS.items()],
    })


def _finished_id_photo(request, job_id: uuid.UUID) -> tuple[Job, Preset]:
    job = owned_jobs(request.user, request.session).filter(pk=job_id).first()
    if job is None:
        raise Refused(NOT_FOUND, 404)
    if not idphoto_jobs.is_id_photo(job):
        raise Refused("This image is a cut-out, not an ID photo: use its download link.", 404)
    if job.status == Job.Status.ERROR:
        raise Refused(job.error or jobs.FAILED_MESSAGE, 409)
    if job.status != Job.Status.DONE:
        raise Refused("This ID photo is still being made.", 409)
    return job, idphoto_jobs.job_preset(job)


def _photo(job: Job) -> Image.Image:
    return Image.fromarray(jobs.load_cutout(job).foreground, "RGB")


def render_photo(job: Job, preset: Preset) -> bytes:
    """The JPEG as the pipeline made it: the document's DPI, within its file-size limits."""
    data, _ = encode_jpeg(_photo(job), preset.dpi, preset.kb)
    return data


def render_sheet(job: Job, preset: Preset, paper: str, fmt: str) -> bytes:
    """As many copies as fit on the paper, with cut guides, at 300 dpi."""
    sheet, _ = make_sheet(_photo(job), preset, paper)
    return sheet_bytes(sheet, fmt)


# Encoding (a search over JPEG qualities for the file-size limits, or a 9 MP A4 sheet) runs
# off the thread that serves every other sync request, as cut-out downloads do.
_render_photo = sync_to_async(render_photo, thread_sensitive=False)
_render_sheet = sync_to_async(render_sheet, thread_sensitive=False)


def _attachment(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, max-age=3600"  # a finished job's files never change
    return response


@sync_to_async
def _photo_request(request, job_id: uuid.UUID) -> tuple[Job, Preset]:
    return _finished_id_photo(request, job_id)


@sync_to_async
def _sheet_request(request, job_id: uuid.UUID) -> tuple[Job, Preset, str, str]:
    job, preset = _finished_id_photo(request, job_id)
    return (job, preset, *idphoto_jobs.parse_sheet(request.GET))


@api_view("GET")
async def photo(request, job_id: uuid.UUID):
    """The ID photo to hand in or upload, as an attachment (pages may show it in an ``<img>``)."""
    job, preset = await _photo_request(request, job_id)
    data = await _render_photo(job, preset)
    return _attachment(data, "image/jpeg", idphoto_jobs.filename(job, ".jpg"))


@api_view("GET")
async def sheet(request, job_id: uuid.UUID):
    """``?sheet=4x6|a4&format=jpg|pdf`` (default 4x6, jpg)."""
    job, preset, paper, fmt = await _sheet_request(request, job_id)
    data = await _render_sheet(job, preset, paper, fmt)
    return _attachment(data, idphoto_jobs.SHEET_TYPES[fmt], idphoto_jobs.filename(job, f"-sheet-{paper}.{fmt}"))
