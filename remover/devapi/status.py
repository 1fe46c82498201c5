"""How an API job looks from outside: the JSON of ``GET /api/v1/jobs/<id>`` and of webhooks,
and the error a failed job answers with."""

from __future__ import annotations

from django.urls import reverse

from remover.models import Job
from remover.processing import jobs

from .errors import ApiError
from .models import ApiJob


def failure(job: Job) -> ApiError:
    """The error a failed job reports: the image's fault (422) or ours (500)."""
    if not job.error or job.error == jobs.FAILED_MESSAGE:
        return ApiError("internal_error", jobs.FAILED_MESSAGE)
    return ApiError("image_unprocessable", job.error)


def _id_photo(job: Job) -> dict:
    """The document, and once done whether the photo passes its checks, with the full report."""
    report = job.idphoto_report if job.status == Job.Status.DONE else None
    return {"preset": job.options.get("preset", ""), "passed": report.get("passed") if report else None,
            "report": report}


def job_status(api_job: ApiJob) -> dict:
    job = api_job.job
    error = None
    if job.status == Job.Status.ERROR:
        failed = failure(job)
        error = {"code": failed.code, "message": failed.message}
    state = {
        "id": str(job.pk),
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "position": job.queue_position() if job.status == Job.Status.QUEUED else None,
        "error": error,
        "credits_charged": api_job.credits,
        "params": api_job.params,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat(),
        "status_url": reverse("devapi-job", args=[job.pk]),
        "result_url": reverse("devapi-job-result", args=[job.pk]) if job.status == Job.Status.DONE else None,
        "webhook": None,
        "idphoto": _id_photo(job) if api_job.params.get("mode") == "idphoto" else None,
    }
    delivery = getattr(api_job, "webhook", None)
    if delivery is not None:
        state["webhook"] = {"url": delivery.url, "state": delivery.state, "attempts": delivery.attempts}
    return state
