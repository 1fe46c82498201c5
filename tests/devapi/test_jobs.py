"""POST /api/v1/jobs and the job's status, result and deletion, with the queue run by the test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from remover.devapi.followup import run_due
from remover.devapi.models import ApiJob, ApiKeyUsage
from remover.models import Job

from .helpers import documented, error_code, image_bytes, opened, post

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs"


def test_a_job_goes_from_queued_to_done_and_renders_its_parameters(client, key, worker, fake_model):
    created = documented(post(client, JOBS, key, files={"image_file": image_bytes(400, 300)},
                              format="webp", bg_color="112233"), JOBS, "post")
    assert created.status_code == 202
    state = created.json()
    assert created["Location"] == state["status_url"] == f"/api/v1/jobs/{state['id']}"
    assert (state["status"], state["position"], state["result_url"], state["credits_charged"]) == ("queued", 1, None, 1)
    assert state["params"]["format"] == "webp" and state["params"]["bg_color"] == [17, 34, 51]

    worker.drain()
    done = documented(client.get(state["status_url"], headers={"X-Api-Key": key}), "/api/v1/jobs/{id}", "get").json()
    assert (done["status"], done["stage"], done["progress"], done["error"]) == ("done", "done", 100, None)
    result = documented(client.get(done["result_url"], headers={"X-Api-Key": key}), "/api/v1/jobs/{id}/result", "get")
    assert result["Content-Type"] == "image/webp" and opened(result).size == (400, 300)
    assert result["X-Credits-Charged"] == "1"
    # Fetching the result again renders it again; the job stays until it expires or is deleted.
    assert client.get(done["result_url"], headers={"X-Api-Key": key}).status_code == 200


def test_delete_removes_the_job_and_its_files_now(client, key, worker, fake_model):
    job_id = post(client, JOBS, key, files={"image_file": image_bytes(100, 100)}).json()["id"]
    worker.drain()
    job = Job.objects.get(pk=job_id)
    stored = [f.path for f in job.stored_files()]
    deleted = client.delete(f"{JOBS}/{job_id}", headers={"X-Api-Key": key})
    assert deleted.status_code == 204
    assert not Job.objects.filter(pk=job_id).exists()
    assert not any(__import__("os").path.exists(path) for path in stored)
    assert client.get(f"{JOBS}/{job_id}", headers={"X-Api-Key": key}).status_code == 404


def test_a_failed_job_reports_its_error_and_costs_nothing(client, key, worker, fake_model):
    truncated = image_bytes(100, 100)[:200]
    job_id = post(client, JOBS, key, files={"image_file": truncated}).json()["id"]
    assert ApiKeyUsage.objects.get().credits == 1
    worker.drain()
    run_due()  # the follow-up refunds failed images even when nobody asks for them
    assert ApiKeyUsage.objects.get().credits == 0
    state = documented(client.get(f"{JOBS}/{job_id}", headers={"X-Api-Key": key}), "/api/v1/jobs/{id}", "get").json()
    assert state["status"] == "error" and state["error"]["code"] == "image_unprocessable"
    assert state["credits_charged"] == 0
    result = client.get(f"{JOBS}/{job_id}/result", headers={"X-Api-Key": key})
    assert result.status_code == 422 and error_code(result) == "image_unprocessable"


def test_synchronous_jobs_are_not_listed(client, key, drained):
    assert post(client, "/api/v1/remove", key, files={"image_file": image_bytes(50, 50)}).status_code == 200
    assert not Job.objects.exists()



def test_abandoned_synchronous_jobs_are_deleted_and_refunded(client, key, settings):
    """A synchronous job whose request is gone (the client hung up while it was being
    created): after the longest possible wait it is deleted with its files, credit returned."""
    settings.CLEARCUT_API_SYNC_TIMEOUT = 5
    job_id = post(client, JOBS, key, files={"image_file": image_bytes(50, 50)}).json()["id"]
    ApiJob.objects.filter(pk=job_id).update(synchronous=True)
    assert ApiKeyUsage.objects.get().credits == 1
    run_due()
    assert Job.objects.filter(pk=job_id).exists()  # still within the wait
    run_due(now=timezone.now() + timedelta(seconds=5 + 61))
    assert not Job.objects.filter(pk=job_id).exists()
    assert ApiKeyUsage.objects.get().credits == 0
