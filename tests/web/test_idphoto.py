"""Passport / ID photo jobs through the JSON API and the job WebSocket.

One test runs the real model on a real face (seconds on a small CPU); the others stop
before the model (refusals, no face, two faces) or use the stand-in model.
"""

from __future__ import annotations

import asyncio
import io
import threading
import uuid

import numpy as np
import pytest
from channels.db import database_sync_to_async
from django.test import Client
from PIL import Image

from remover.models import DailyUsage, Job
from remover.processing import jobs
from remover.processing.events import Publisher
from remover.web import limits
from tests.conftest import png_bytes

from .helpers import image_bytes, upload
from .test_consumer import connect, new_session

IDPHOTO_STAGES = ["decoding", "detecting", "segmenting", "refining", "framing", "checking", "done"]


def id_upload(client, data: bytes, preset: str = "icao", **fields):
    return upload(client, data=data, name="Me at home.png", mode="idphoto", preset=preset, **fields)


def created(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def body(response) -> bytes:
    return b"".join(response)


class Recorder:
    """Stands in for the worker's publisher: keeps every snapshot it is given."""

    def __init__(self):
        self.snapshots: list[dict] = []

    def __call__(self, job_id, snapshot=None):
        if snapshot:
            self.snapshots.append(snapshot)


# --- Documents and refusals ---------------------------------------------------------------

@pytest.mark.django_db
def test_presets_are_listed_by_country_with_sizes(client):
    response = client.get("/api/idphoto/presets")
    assert response.status_code == 200
    groups = response.json()["documents"]
    assert groups[0]["country"] == "International"
    by_country = {group["country"]: group["documents"] for group in groups}
    assert [d["key"] for d in by_country["United States"]] == ["us", "us-dv"]
    [uk] = by_country["United Kingdom"]
    assert uk["document"] == "Passport, 35×45 mm" and uk["name"] == "United Kingdom passport 35×45 mm"
    assert uk["size_mm"] == [35, 45] and uk["pixels"] == [700, 900] and uk["head_mm"] == [29, 34]
    assert uk["background"] == "#E6E6E6"
    assert [s["key"] for s in response.json()["sheets"]] == ["4x6", "a4"]
    assert client.post("/api/idphoto/presets").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"preset": "narnia"}, ["Unknown document 'narnia'", "uk", "GET /api/idphoto/presets"]),
        ({"preset": ""}, ["preset=NAME", "GET /api/idphoto/presets"]),
        ({"preset": "custom:2000x2000px"}, ["2000×2000 px", "1 MP", "Pro"]),
        ({"preset": "custom:5x5mm"}, ["at least 100 pixels"]),
        ({"preset": "uk", "format": "png"}, ["format only apply to cut-outs"]),
        ({"preset": "uk", "mode": "passport"}, ["Unknown mode"]),
    ],
)
def test_bad_id_photo_requests_are_refused_before_anything_is_kept(client, fields, words):
    fields = {"mode": "idphoto", **fields}
    response = upload(client, data=image_bytes(640, 480), **fields)
    assert response.status_code == 400
    message = response.json()["error"]
    assert all(word in message for word in words), message
    assert not Job.objects.exists() and not DailyUsage.objects.exists()


@pytest.mark.django_db
def test_a_custom_size_within_the_cap_is_accepted(client):
    state = created(id_upload(client, image_bytes(640, 480), preset="custom:40x50mm"))
    assert state["mode"] == "idphoto" and state["status"] == "queued"
    assert state["preset"] == {"key": "custom:40x50mm", "name": "Custom 40×50 mm", "pixels": [472, 591]}
    assert state["download_size"] == [472, 591] and state["full_size"] == [640, 480]


# --- Photos that cannot become ID photos --------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(
    ("photo", "message"),
    [
        ("no_face", "We found no face in this photo."),
        ("two_faces", "We found 2 faces; use a photo of one person."),
    ],
)
def test_photos_without_exactly_one_face_end_in_error(client, worker, fake_model, astronaut, photo, message):
    data = image_bytes(640, 480) if photo == "no_face" else png_bytes(np.concatenate([astronaut, astronaut], axis=1))
    recorder = worker.publish = Recorder()
    state = created(id_upload(client, data))
    worker.drain()

    state = client.get(state["urls"]["self"]).json()
    assert state["status"] == "error" and state["stage"] == "error"
    assert state["error"].startswith(message)
    assert recorder.snapshots[-1] == {"status": "error", "stage": "error", "error": state["error"]}
    assert "report" not in state and "photo" not in state["urls"]
    refused = client.get(f"/api/jobs/{state['id']}/idphoto")
    assert refused.status_code == 409 and refused.json()["error"] == state["error"]
    assert fake_model.calls == 0  # refused before the model ran


@pytest.mark.django_db(transaction=True)
async def test_no_face_error_reaches_the_websocket(worker, fake_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from project.asgi import application

    session_key, owner = await new_session()

    @database_sync_to_async
    def new_id_job() -> Job:
        upload_file = SimpleUploadedFile("blank.png", image_bytes(640, 480), "image/png")
        info = limits.inspect_upload(upload_file)
        return jobs.create_job(upload_file, info, owner_key=owner, user=None, ip="127.0.0.1",
                               batch=uuid.uuid4(), options={"mode": "idphoto", "preset": "uk"})

    job = await new_id_job()
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    first = await communicator.receive_json_from()
    assert first["mode"] == "idphoto" and first["preset"]["key"] == "uk"
    worker.publish = Publisher(loop=asyncio.get_running_loop())
    worker.submit(job.pk)
    thread = threading.Thread(target=worker.drain)
    thread.start()
    events = [first]
    while events[-1]["stage"] not in ("done", "error"):
        events.append(await communicator.receive_json_from(timeout=10))
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert events[-1]["status"] == "error"
    assert events[-1]["error"].startswith("We found no face in this photo.")
    await communicator.disconnect()


# --- A real face, with the real model -----------------------------------------------------

@pytest.mark.django_db
def test_real_face_becomes_an_id_photo_with_report_and_sheets(client, worker, astronaut):
    recorder = worker.publish = Recorder()
    state = created(id_upload(client, png_bytes(astronaut), preset="icao"))
    assert state["urls"].keys() == {"self", "batch_download"}
    worker.drain()

    # Every stage of the ID photo pipeline was announced, in order, with rising progress.
    stages = [s["stage"] for s in recorder.snapshots if "stage" in s]
    assert list(dict.fromkeys(stages)) == IDPHOTO_STAGES, stages
    progress = [s["progress"] for s in recorder.snapshots if "progress" in s]
    assert progress == sorted(progress) and progress[-1] == 100

    state = client.get(state["urls"]["self"]).json()
    assert state["status"] == "done" and state["mode"] == "idphoto"
    assert state["full_size"] == state["download_size"] == [413, 531]
    report = state["report"]
    checks = {check["id"]: check for check in report["checks"]}
    # Measured afresh on the finished photo. The astronaut's face is small, so it had to be
    # enlarged too much, and she smiles with her teeth showing: those two checks fail, no other.
    assert report["measurements"]["measured_on"] == "output photo" and checks["one_face"]["value"] == 1
    assert {name for name, check in checks.items() if not check["passed"]} == {"resolution", "mouth_closed"}
    assert not report["passed"] and "enlarged" in checks["resolution"]["message"]
    assert report["preset"]["key"] == "icao" and report["guides"]["height"] == 531
    # The face checks come with their measured value, allowed range and the rule they apply.
    for name in ("head_yaw", "head_pitch", "eyes_open", "mouth_closed", "sharpness", "lighting"):
        assert checks[name]["value"] is not None and len(checks[name]["allowed"]) == 2 and checks[name]["source"]
    assert state["sheets"] == {"4x6": {"name": "4×6 in (10×15 cm)", "copies": 8}, "a4": {"name": "A4", "copies": 30}}

    # The photo: a JPEG at the document's exact size (not the free tier's cap), with its DPI.
    response = client.get(state["urls"]["photo"])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="me-at-home-icao.jpg"'
    photo = Image.open(io.BytesIO(body(response)))
    assert photo.format == "JPEG" and photo.size == (413, 531) and photo.info["dpi"] == pytest.approx((300, 300))
    # Between her eyes and her chin the photo shows her, not the background colour.
    guides = report["guides"]
    (left, _), (right, _) = guides["eyes_px"]
    face = np.asarray(photo.convert("RGB"))[int(guides["eye_line_y"]):int(guides["chin_y"]), int(left):int(right)]
    assert np.abs(face.astype(int) - (0xF0, 0xF0, 0xF0)).mean() > 40
    # Encoded from the stored photo, it is the very file the report measured.
    assert len(body(response)) / 1000 == pytest.approx(report["measurements"]["file_kb"], abs=0.05)

    sheet = client.get(state["urls"]["sheets"]["4x6"]["jpg"])
    assert sheet.status_code == 200 and sheet["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body(sheet))).size == (1800, 1200)
    pdf = client.get(state["urls"]["sheets"]["a4"]["pdf"])
    assert pdf["Content-Type"] == "application/pdf" and body(pdf).startswith(b"%PDF")
    assert pdf["Content-Disposition"] == 'attachment; filename="me-at-home-icao-sheet-a4.pdf"'
    bad = client.get(f"/api/jobs/{state['id']}/sheet?sheet=letter")
    assert bad.status_code == 400 and "4x6 or a4" in bad.json()["error"]
    bad = client.get(f"/api/jobs/{state['id']}/sheet?format=png")
    assert bad.status_code == 400 and "jpg or pdf" in bad.json()["error"]

    # An ID photo has no cut-out; its batch has no ZIP of cut-outs.
    for path in ("download", "preview", "original"):
        response = client.get(f"/api/jobs/{state['id']}/{path}")
        assert response.status_code == 404 and "ID photo" in response.json()["error"]
    assert client.get(state["urls"]["batch_download"]).status_code == 404

    # Nobody else sees any of it.
    stranger = Client()
    urls = [state["urls"]["self"], state["urls"]["photo"], state["urls"]["sheets"]["a4"]["pdf"]]
    assert [stranger.get(url).status_code for url in urls] == [404, 404, 404]

    # The report is kept with the job; deleting the job deletes the photo with it.
    job = Job.objects.get(pk=state["id"])
    assert job.idphoto_report == report and job.options == {"mode": "idphoto", "preset": "icao"}
    stored = job.cutout.name
    assert job.cutout.storage.exists(stored)
    assert client.delete(state["urls"]["self"]).status_code == 204
    assert not job.cutout.storage.exists(stored)


@pytest.mark.django_db
def test_cut_out_jobs_are_not_id_photos(client, worker, fake_model):
    state = created(upload(client))
    worker.drain()
    response = client.get(f"/api/jobs/{state['id']}/idphoto")
    assert response.status_code == 404 and "not an ID photo" in response.json()["error"]
    state = client.get(state["urls"]["self"]).json()
    assert state["mode"] == "cutout" and "report" not in state
