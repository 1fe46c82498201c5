"""``/api/jobs/<id>/edit``: the page's touch-up edit of a finished job (remover/processing/edits.py).

``GET`` the stored strokes and revision; ``PUT`` the whole list of strokes (checked; a
refused edit changes nothing); ``DELETE`` goes back to the AI result. Owner only, like
every job endpoint.
"""

from __future__ import annotations

import uuid

from django.http import JsonResponse

from remover.processing import (
    edits,  # _finished_job: the owner's finished job, not an ID photo (the rule every job endpoint uses).
)
from remover.web.page_api import _finished_job, api_view


def _state(job) -> dict:
    return {"revision": job.edit_revision, "strokes": (job.edit or {}).get("strokes", [])}


@api_view("GET", "PUT", "DELETE")
def edit(request, job_id: uuid.UUID):
    job = _finished_job(request, job_id)
    if request.method == "GET":
        return JsonResponse(_state(job))
    if request.method == "DELETE":
        edits.save(job, [])
        return JsonResponse(_state(job))
    try:
        edits.check_size(int(request.META.get("CONTENT_LENGTH") or 0))  # before the body is read
    except ValueError:
        pass  # no usable length: the body's own size is checked below
    strokes = edits.parse_strokes(request.body, job.width, job.height)
    edits.save(job, strokes)
    return JsonResponse(_state(job))
