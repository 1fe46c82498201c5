"""The bad-input corpus (tests/security/corpus.py) through the JSON API, the worker thread and
the CLI: a correct result or a 4xx with a message for a person; never a 500, a dead worker
or a job stuck in the queue."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image

from remover.models import Job
from remover.processing.jobs import FAILED_MESSAGE
from tests.web.helpers import FakeSegmenter, image_bytes, upload

from . import corpus

CORPUS = corpus.build()
ACCEPTED = [case for case in CORPUS if case.expect != "refused"]
# Cases whose picture is corpus.photo(): red top-left corner once upright.
RED_CORNER = [case.id for case in CORPUS if case.id.startswith("exif-") or case.id in (
    "corrupt-exif", "huge-icc-profile", "cmyk-jpeg", "path-traversal-unicode-name", "rgb-16bit-png")]


def content(response) -> bytes:
    return b"".join(response)


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.id)
def test_every_bad_input_gets_a_result_or_a_clear_refusal(client, settings, worker, fake_model, case):
    # The browser's content type is not trusted: every file claims to be a JPEG.
    response = upload(client, data=case.data, name=case.name, content_type="image/jpeg")
    assert response.status_code < 500
    if case.expect == "refused":
        assert response.status_code == case.status, response.content
        assert case.message in response.json()["error"]
        assert not Job.objects.exists() and stored_files(settings) == []
        return

    assert response.status_code == 201, response.content
    job_url = response.json()["urls"]["self"]
    worker.drain()
    state = client.get(job_url).json()
    if case.expect == "job_error":
        assert (state["status"], state["stage"]) == ("error", "error")
        assert case.message in state["error"]
        return

    assert state["status"] == "done", state["error"]
    assert tuple(state["full_size"]) == case.size
    outputs = {kind: content(client.get(state["urls"][kind])) for kind in ("preview", "original", "download")}
    for kind, data in outputs.items():
        image = Image.open(io.BytesIO(data))
        image.load()  # a complete, valid image
        assert image.size[0] * image.size[1] <= 1_000_000, kind
    assert Image.open(io.BytesIO(outputs["download"])).size == tuple(state["download_size"])
    if case.id in RED_CORNER:
        r, g, b = Image.open(io.BytesIO(outputs["original"])).convert("RGB").getpixel((1, 1))
        assert r > 180 and g < 80 and b < 80, (r, g, b)  # upright and in the right colours
    # Only re-encoded pixels go back out: whatever the upload carried besides them does not.
    for data in outputs.values():
        assert b"alert(" not in data and b"<script" not in data


@pytest.mark.django_db
def test_as_id_photo_jobs_the_corpus_ends_with_messages_not_crashes(client, settings, worker, fake_model):
    settings.CLEARCUT_UPLOADS_PER_MINUTE = settings.CLEARCUT_UPLOADS_PER_MINUTE_PER_IP = 0
    settings.CLEARCUT_DAILY_QUOTA = settings.CLEARCUT_DAILY_QUOTA_PER_IP = 1000
    urls = [upload(client, data=case.data, name=case.name, mode="idphoto", preset="uk").json()["urls"]["self"]
            for case in ACCEPTED]
    worker.drain()
    for url in urls:
        state = client.get(url).json()
        assert state["status"] in ("done", "error")
        assert state["error"] != FAILED_MESSAGE  # the catch-all for an unexpected exception


class Finished:
    """The worker's publish callable: counts jobs that reached done or error, so the test
    waits on events instead of reading the database while the worker thread writes it."""

    def __init__(self):
        self.ids: set[str] = set()
        self.changed = threading.Condition()

    def __call__(self, job_id, snapshot=None):
        if snapshot and snapshot.get("status") in ("done", "error"):
            with self.changed:
                self.ids.add(str(job_id))
                self.changed.notify_all()

    def wait_for(self, ids, timeout: float = 120) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: set(ids) <= self.ids, timeout), "jobs still unfinished"


@pytest.mark.django_db(transaction=True)
def test_the_worker_thread_survives_the_whole_corpus_and_then_runs_a_good_job(client, settings, worker, fake_model):
    settings.CLEARCUT_UPLOADS_PER_MINUTE = settings.CLEARCUT_UPLOADS_PER_MINUTE_PER_IP = 0  # not what this tests
    settings.CLEARCUT_DAILY_QUOTA = settings.CLEARCUT_DAILY_QUOTA_PER_IP = 1000
    accepted = [upload(client, data=case.data, name=case.name) for case in CORPUS]
    assert all(response.status_code < 500 for response in accepted)
    ids = [response.json()["id"] for response in accepted if response.status_code == 201]
    assert len(ids) == len(ACCEPTED)

    worker.publish = finished = Finished()
    worker.start()
    try:
        finished.wait_for(ids)
        assert worker.running
        good = upload(client, data=image_bytes(320, 240)).json()
        finished.wait_for([good["id"]])
        assert worker.running
    finally:
        worker.stop()
    assert not Job.objects.exclude(status__in=("done", "error")).exists()  # nothing stuck
    assert client.get(good["urls"]["self"]).json()["status"] == "done"


def test_the_cli_reports_each_bad_file_and_writes_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("remover.management.commands.removebg.configured_segmenter", lambda flip=False: FakeSegmenter())
    inputs = tmp_path / "in"
    inputs.mkdir()
    paths = []
    for case in CORPUS:
        path = inputs / f"{case.id}{Path(case.name).suffix.lower()}"
        path.write_bytes(case.data)
        paths.append(path)
    out = tmp_path / "out"
    failing = [case for case in CORPUS if case.expect != "ok"]

    with pytest.raises(CommandError, match=f"{len(failing)} of {len(CORPUS)} images failed"):
        call_command("removebg", *map(str, paths), "--out", str(out))

    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    for case in failing:  # one line each: the file, then a sentence for a person
        line = next(line for line in errors.splitlines() if line.startswith(str(inputs / case.id)))
        reason = line.split(": ", 1)[1]
        assert reason.startswith("This ") and reason.endswith("."), line
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{case.id}.png" for case in CORPUS if case.expect == "ok")
    for case in CORPUS:
        if case.expect == "ok":
            assert Image.open(out / f"{case.id}.png").size == case.size


@pytest.mark.django_db
def test_nothing_outside_the_corpus_crashes_the_upload_check_either(client, settings):
    """Lying headers of every accepted format: refused in the request, nothing stored."""
    for data in (corpus.bmp_claiming(-5, 10), corpus.bmp_claiming(0, 0), corpus.raw_png(0, 10, 8, 2),
                 corpus.tiff_claiming(0, 5), b"GIF89a" + b"\xff" * 20, b"\xff\xd8\xff" + b"\x00" * 50,
                 b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16, b"II*\x00\x08\x00\x00\x00\x00\x00"):
        response = upload(client, data=data, name="x.jpg")
        assert 400 <= response.status_code < 500 and response.json()["error"]
    assert not Job.objects.exists() and not default_storage.exists("jobs")
