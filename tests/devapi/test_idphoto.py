"""mode=idphoto through the API: the same queued job, framed by the ID photo pipeline (real
face landmarks on a real photo; the stand-in model for the cut-out)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from remover.idphoto.presets import get_preset
from tests.conftest import png_bytes

from .helpers import documented, error_code, image_bytes, opened, post

pytestmark = pytest.mark.django_db
REMOVE = "/api/v1/remove"


def test_an_id_photo_has_the_documents_size_dpi_and_background(client, key, drained, astronaut):
    response = documented(post(client, REMOVE, key, files={"image_file": png_bytes(astronaut)}, mode="idphoto",
                               preset="uk"), REMOVE, "post")
    assert response.status_code == 200, response.content
    uk = get_preset("uk")
    image = opened(response)
    assert image.format == "JPEG" and image.size == uk.pixels
    assert round(image.info["dpi"][0]) == uk.dpi
    if uk.kb:
        assert len(response.content) <= uk.kb[1] * 1000
    rgb = np.asarray(image.convert("RGB"))
    corner = rgb[:8, :8].reshape(-1, 3).mean(0)
    assert abs(corner - uk.background).max() < 12  # the document's background colour
    # Where the rules put the face (mid-width, just under the eye line) is the person, not background.
    width, height = uk.pixels
    face = rgb[int(height * 0.45):int(height * 0.6), width // 2 - 40:width // 2 + 40].astype(int)
    assert np.abs(face - uk.background).mean() > 40
    # Her face is small in this photo (enlarged too much) and she smiles with her teeth showing.
    assert response["X-Idphoto-Passed"] == "false"


def test_an_id_photo_job_reports_its_compliance(client, key, worker, fake_model, astronaut):
    job_id = post(client, "/api/v1/jobs", key, files={"image_file": png_bytes(astronaut)}, mode="idphoto",
                  preset="schengen").json()["id"]
    worker.drain()
    state = documented(client.get(f"/api/v1/jobs/{job_id}", headers={"X-Api-Key": key}), "/api/v1/jobs/{id}",
                       "get").json()
    assert state["status"] == "done" and state["idphoto"]["preset"] == "schengen"
    report = state["idphoto"]["report"]
    assert report["measurements"]["measured_on"] == "output photo"
    assert {check["id"] for check in report["checks"] if not check["passed"]} == {"resolution", "mouth_closed"}
    assert state["idphoto"]["passed"] is False
    result = client.get(state["result_url"], headers={"X-Api-Key": key})
    assert result["X-Idphoto-Passed"] == "false"


def test_png_id_photo_keeps_its_dpi(client, key, drained, astronaut):
    response = post(client, REMOVE, key, files={"image_file": png_bytes(astronaut)}, mode="idphoto",
                    preset="custom:35x45mm", format="png")
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (413, 531) and round(image.info["dpi"][0]) == 300


def test_a_photo_without_a_face_is_422_with_the_reason(client, key, drained):
    response = post(client, REMOVE, key, files={"image_file": image_bytes(640, 480)}, mode="idphoto", preset="us")
    assert response.status_code == 422 and error_code(response) == "image_unprocessable"
    assert "face" in response.json()["error"]["message"]
