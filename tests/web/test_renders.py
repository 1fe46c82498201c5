"""Downloads rendered once each, in bounded lanes, kept in storage and deleted with their job
(remover/web/renders.py), and rate-limited like uploads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.core.files.storage import default_storage

from remover.models import Job, renders_folder
from remover.web import downloads, renders
from remover.web.limits import Refused, Tier

from .helpers import image_bytes, upload
from .test_api import open_image

pytestmark = pytest.mark.django_db(transaction=True)
FREE = Tier("free", 1.0)


@pytest.fixture
def renderer(monkeypatch, settings):
    """A fresh renderer for this test: one heavy worker, one waiting place, a 0.1 MP light lane."""
    fresh = renders.Renderer(workers=1, waiting=1, light_megapixels=0.1)
    monkeypatch.setattr(renders, "_renderer", fresh)
    return fresh


@pytest.fixture
def counted(monkeypatch):
    """Counts real renders; ``gate`` holds each one until the test sets it."""
    calls = []
    gate = threading.Event()
    gate.set()
    real = downloads.render_download

    def render(job, request, tier):
        calls.append(job.pk)
        assert gate.wait(30)
        return real(job, request, tier)

    monkeypatch.setattr(renders, "render_download", render)
    return calls, gate


def finished_job(client, worker, width=640, height=480) -> Job:
    response = upload(client, data=image_bytes(width, height))
    assert response.status_code == 201, response.content
    worker.drain()
    return Job.objects.get(pk=response.json()["id"])


def kept(job: Job) -> list[str]:
    try:
        return default_storage.listdir(renders_folder(job.pk))[1]
    except FileNotFoundError:
        return []


def test_the_same_download_asked_for_at_once_and_again_is_rendered_once(client, worker, fake_model, renderer, counted):
    calls, gate = counted
    job = finished_job(client, worker)
    wanted = downloads.parse_request({"format": "webp"})
    gate.clear()
    first, second = renderer.stored(job, wanted, FREE), renderer.stored(job, wanted, FREE)
    assert first is second
    gate.set()
    assert first.result(30) == second.result(30)
    assert renderer.stored(job, wanted, FREE).result(1) == first.result()
    assert len(calls) == 1
    # Over HTTP too: the kept file is served, nothing is rendered again...
    again = client.get(f"/api/jobs/{job.pk}/download?format=webp")
    assert again.status_code == 200 and open_image(again).mode == "RGBA"
    assert len(calls) == 1 and len(kept(job)) == 1
    # ...while another background is another file.
    assert client.get(f"/api/jobs/{job.pk}/download?format=jpg&bg=blur").status_code == 200
    assert len(calls) == 2 and len(kept(job)) == 3  # and the photo its blur was made from


def test_the_photo_behind_blurred_backdrops_is_decoded_once_per_size(client, worker, fake_model, renderer,
                                                                     monkeypatch):
    from remover.processing import jobs

    decoded = []
    real = jobs.load_original
    monkeypatch.setattr(downloads, "load_original", lambda job, size=None: decoded.append(size) or real(job, size))
    job = finished_job(client, worker)
    first = open_image(client.get(f"/api/jobs/{job.pk}/download?format=png&bg=blur"))
    for query in ("format=jpg&bg=blur", "format=webp&bg=blur&shadow=drop"):
        assert client.get(f"/api/jobs/{job.pk}/download?{query}").status_code == 200
    assert decoded == [first.size]


def test_a_full_heavy_lane_answers_503_and_a_small_download_still_goes_through(client, worker, fake_model, renderer):
    large = finished_job(client, worker, 640, 480)  # 0.3 MP: the heavy lane of this renderer
    small = finished_job(client, worker, 200, 150)  # 0.03 MP: the light lane
    hold = threading.Event()
    blockers = [renderer.heavy.submit(hold.wait, 30) for _ in range(2)]  # one running, one waiting
    try:
        refused = client.get(f"/api/jobs/{large.pk}/download?format=jpg&bg=blur")
        assert refused.status_code == 503
        assert int(refused["Retry-After"]) > 0
        assert "try again" in refused.json()["error"]
        assert client.get(f"/api/jobs/{small.pk}/download?format=png").status_code == 200
    finally:
        hold.set()
    for blocker in blockers:
        blocker.result(30)
    assert client.get(f"/api/jobs/{large.pk}/download?format=jpg&bg=blur").status_code == 200


def test_a_job_deleted_while_its_download_renders_leaves_no_file(client, worker, fake_model, renderer, counted):
    calls, gate = counted
    job = finished_job(client, worker)
    gate.clear()
    future = renderer.stored(job, downloads.parse_request({"format": "webp"}), FREE)
    while not calls:
        threading.Event().wait(0.01)
    assert client.delete(f"/api/jobs/{job.pk}").status_code == 204
    gate.set()
    with pytest.raises(renders.JobDeleted):
        future.result(30)
    assert kept(job) == []


def test_deleting_a_job_deletes_its_kept_downloads(client, worker, fake_model, renderer):
    job = finished_job(client, worker)
    for query in ("format=webp", "format=jpg&bg=FF0000", "mask=1"):
        assert client.get(f"/api/jobs/{job.pk}/download?{query}").status_code == 200
    assert len(kept(job)) == 3
    assert client.delete(f"/api/jobs/{job.pk}").status_code == 204
    assert kept(job) == []


def test_downloads_are_rate_limited_per_visitor(client, worker, fake_model, renderer, settings):
    settings.CLEARCUT_DOWNLOADS_PER_MINUTE = 2
    job = finished_job(client, worker)
    for _ in range(2):
        assert client.get(f"/api/jobs/{job.pk}/download?format=png").status_code == 200
    limited = client.get(f"/api/jobs/{job.pk}/download?format=png")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert "Too many downloads" in limited.json()["error"]


def test_a_refusing_lane_counts_its_places():
    lane = renders.Lane(workers=1, waiting=1, name="test")
    hold = threading.Event()
    taken = [lane.submit(hold.wait, 30), lane.submit(hold.wait, 30)]
    with pytest.raises(Refused) as busy:
        lane.submit(hold.wait, 30)
    assert busy.value.status == 503 and busy.value.retry_after > 0
    hold.set()
    for future in taken:
        future.result(30)
    assert lane.submit(lambda: 7).result(30) == 7  # places come back once the work is done


def test_shrinking_on_decode_matches_the_engine_resize(client, worker, fake_model):
    """The download path shrinks while decoding (8-bit premultiplied); the result is the
    engine's float resize within a grey level or two, edges included."""
    from remover.processing.jobs import load_cutout

    job = finished_job(client, worker, 1600, 1200)
    full = load_cutout(job)
    fast = load_cutout(job, (800, 600))
    exact = full.resized(800, 600)
    alpha_error = np.abs(fast.alpha.astype(int) - exact.alpha.astype(int))
    assert alpha_error.max() <= 2
    visible = exact.alpha > 32  # colour only matters where it shows
    colour_error = np.abs(fast.foreground.astype(int) - exact.foreground.astype(int))[visible]
    assert colour_error.mean() < 1.0 and np.percentile(colour_error, 99.9) <= 8


def test_a_plain_transparent_png_is_the_stored_preview_or_cut_out_itself(client, worker, fake_model, renderer,
                                                                       counted, settings):
    calls, _ = counted
    job = finished_job(client, worker, 1600, 1200)  # 1.9 MP: the free download is the 1 MP preview
    free = client.get(f"/api/jobs/{job.pk}/download?format=png")
    assert b"".join(free) == default_storage.open(job.preview.name).read()
    settings.CLEARCUT_FREE_MEGAPIXELS = 2  # now the free size is the full size: the cut-out itself
    full = client.get(f"/api/jobs/{job.pk}/download?format=png")
    assert b"".join(full) == default_storage.open(job.cutout.name).read()
    assert calls == [] and kept(job) == []
    framed = client.get(f"/api/jobs/{job.pk}/download?format=png&shadow=drop")  # anything else is rendered
    assert framed.status_code == 200 and len(calls) == 1


def test_a_download_waits_for_the_full_size_cut_out_stored_after_done(client, worker, fake_model, renderer,
                                                                      settings):
    from remover.processing.jobs import FullSizePending, full_cutout

    job = finished_job(client, worker)
    name = job.cutout.name
    Job.objects.filter(pk=job.pk).update(cutout="")  # as between "done" and the cut-out being stored
    job.refresh_from_db()
    settings.CLEARCUT_FULL_SIZE_WAIT_SECONDS = 0.3
    with pytest.raises(FullSizePending):
        full_cutout(job)
    settings.CLEARCUT_FULL_SIZE_WAIT_SECONDS = 10
    threading.Timer(0.5, lambda: Job.objects.filter(pk=job.pk).update(cutout=name)).start()
    assert full_cutout(job).name == name


def test_a_job_deleted_just_after_done_leaves_no_full_size_file(fake_model, settings):
    """The full-size cut-out is stored after "done" is announced; a job deleted in between
    (its owner pressed "delete now" at once) keeps nothing of it."""
    from pathlib import Path

    from remover.processing import jobs
    from tests.web.test_worker import make_job

    job = make_job()

    def publish(job_id, snapshot=None):
        if snapshot and snapshot.get("status") == "done":
            Job.objects.get(pk=job_id).delete()

    jobs.process_job(job.pk, publish)
    assert not Job.objects.filter(pk=job.pk).exists()
    media = Path(settings.MEDIA_ROOT)
    assert [p for p in media.rglob("*") if p.is_file()] == []
