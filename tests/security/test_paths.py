"""No user-supplied string reaches a file path, and downloads carry safe Content-Disposition
names (RFC 6266: an ASCII ``filename``, plus ``filename*`` in UTF-8 when needed)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.web.helpers import image_bytes, upload

SMALL = image_bytes(64, 48)

HOSTILE_NAMES = [
    "../../../../etc/passwd.png",
    "..\\..\\windows\\system32\\evil.png",
    "/absolute/path.png",
    'quote"; filename="evil.exe.png',
    "new\r\nline: injected.png",
    "nul\x00byte.png",
    "Ünïcødé 照片\u202egnp.exe.png",  # right-to-left override: "…exe.png" shown as "…png.exe"
    "....png",
    "a" * 300 + ".png",
    "%2e%2e%2fencoded.png",
]
STORED = re.compile(
    r"jobs/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}-(input|cutout|mask|preview|original)\.(png|jpg)"
)
SAFE_NAME = re.compile(r"[a-z0-9_-]+-(cutout|mask)\.(png|jpg|webp)")
DISPOSITION = re.compile(r'attachment; filename="(?P<ascii>[^"]*)"(?:; filename\*=utf-8\'\'(?P<utf8>[A-Za-z0-9%._~-]+))?')


@pytest.mark.django_db
def test_stored_files_are_named_by_the_job_id_only(client, settings, worker, fake_model, tmp_path):
    for name in HOSTILE_NAMES:
        assert upload(client, data=SMALL, name=name).status_code == 201, name
    worker.drain()
    media = Path(settings.MEDIA_ROOT)
    stored = [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()]
    assert len(stored) == 4 * len(HOSTILE_NAMES)
    assert all(STORED.fullmatch(name) for name in stored), stored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]  # nothing written beside it


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_download_names_are_safe_whatever_the_upload_was_called(client, worker, fake_model, name):
    job = upload(client, data=SMALL, name=name).json()
    worker.drain()
    for query in ({"format": "png"}, {"format": "webp"}, {"mask": "1", "format": "jpg"}):
        header = client.get(f"/api/jobs/{job['id']}/download", query)["Content-Disposition"]
        header.encode("ascii")  # a header is ASCII; the rest travels percent-encoded
        assert "\r" not in header and "\n" not in header
        match = DISPOSITION.fullmatch(header)
        assert match and SAFE_NAME.fullmatch(match["ascii"]), header
        if match["utf8"]:  # percent-encoded UTF-8 (RFC 8187); what it decodes to is safe too
            unicode_name = unquote(match["utf8"], errors="strict")
            assert "/" not in unicode_name and "\\" not in unicode_name and not unicode_name.startswith(".")
            assert not any(ch in unicode_name for ch in '"\r\n\x00\u202e')


@pytest.mark.django_db
def test_a_unicode_name_is_kept_for_browsers_that_read_filename_star(client, worker, fake_model):
    job = upload(client, data=SMALL, name="Été à Paris 照片.png").json()
    worker.drain()
    header = client.get(f"/api/jobs/{job['id']}/download")["Content-Disposition"]
    assert header == (
        "attachment; filename=\"ete-a-paris-cutout.png\"; "
        "filename*=utf-8''%C3%A9t%C3%A9-%C3%A0-paris-%E7%85%A7%E7%89%87-cutout.png"
    )


@pytest.mark.django_db
def test_zip_members_have_flat_safe_names(client, worker, fake_model):
    first = upload(client, data=SMALL, name="../../evil.png").json()
    upload(client, data=SMALL, name="..\\..\\evil.png", batch=first["batch"])
    worker.drain()
    response = client.get(first["urls"]["batch_download"])
    names = zipfile.ZipFile(io.BytesIO(b"".join(response))).namelist()
    assert names == ["evil-cutout.png", "evil-cutout-2.png"]
    assert response["Content-Disposition"] == 'attachment; filename="clearcut-images.zip"'


@pytest.mark.django_db
@pytest.mark.parametrize("params", [
    {"bg": "../../etc/passwd"}, {"bg": "/etc/passwd"}, {"bg": "file:///etc/passwd"}, {"bg": "C:\\boot.ini"},
    {"format": "../png"}, {"format": "png/../../x"}, {"batch": "../../jobs"},
    {"mode": "idphoto", "preset": "../../presets.toml"}, {"mode": "idphoto", "preset": "custom:../x"},
])
def test_path_like_parameters_are_refused_not_opened(client, worker, fake_model, params):
    assert upload(client, data=SMALL, **params).status_code == 400
    job = upload(client, data=SMALL).json()
    worker.drain()
    if params.keys() <= {"bg", "format"}:  # the download options too
        response = client.get(f"/api/jobs/{job['id']}/download", params)
        assert response.status_code == 400 and "error" in response.json()


def test_traversal_in_the_url_finds_no_route(client):
    for path in ("/api/jobs/../../etc/passwd", "/api/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/download",
                 "/api/batches/..%2f..%2fjobs/download"):
        assert client.get(path).status_code == 404
