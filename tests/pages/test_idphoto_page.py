"""The upload page's passport / ID photo mode as the server renders it: the mode switch, the
grouped document picker, the upload controls, and CSP-friendly markup."""

from __future__ import annotations

import re

import pytest

from .test_pages import assert_csp_friendly

pytestmark = pytest.mark.django_db


def panel_open_tags(html: str) -> dict[str, str]:
    """The opening tag of each mode panel, by its mode."""
    tags = re.finditer(r'<div class="mode-panel[^"]*" id="\w+-mode" data-mode="(\w+)"[^>]*>', html)
    return {tag.group(1): tag.group(0) for tag in tags}


def test_the_page_opens_in_the_cut_out_mode(client):
    html = client.get("/").content.decode()
    assert '<a class="mode-switch__link" id="mode-cutout" href="/" data-mode="cutout" aria-current="page">' in html
    assert 'href="/?mode=idphoto" data-mode="idphoto">Passport / ID photo</a>' in html
    panels = panel_open_tags(html)
    assert "hidden" not in panels["cutout"] and "hidden" in panels["idphoto"]
    assert 'type="module" src="/static/js/idphoto.js"' in html and "/static/css/idphoto.css" in html
    assert_csp_friendly(html)


def test_the_id_photo_mode_has_its_own_address_and_a_grouped_document_picker(client):
    html = client.get("/?mode=idphoto").content.decode()
    panels = panel_open_tags(html)
    assert "hidden" in panels["cutout"] and "hidden" not in panels["idphoto"]
    assert 'data-mode="idphoto" aria-current="page"' in html
    assert '<label for="id-preset">Country and document</label>' in html
    groups = re.findall(r'<optgroup label="([^"]+)">', html)
    assert groups[:3] == ["International", "United States", "United Kingdom"] and len(groups) == len(set(groups))
    us = html[html.index('<optgroup label="United States">'):]
    us = us[:us.index("</optgroup>")]
    assert re.findall(r'<option value="([\w-]+)"', us) == ["us", "us-dv"]
    spec = "Prints at 50.8×50.8 mm · file 600×600 px · head 25.4–34.9 mm · plain #F7F7F5 background"
    assert f'data-spec="{spec}">Passport or visa, 2×2 in</option>' in us
    # One photo from the files or the front camera; both inputs are driven by labelled buttons.
    assert 'id="id-file-input" class="visually-hidden" accept="image/*,.heic,.heif" tabindex="-1" aria-hidden="true"' in html
    assert 'id="id-camera-input" class="visually-hidden" accept="image/*" capture="user"' in html
    assert re.search(r'<button type="button" class="button button--primary" id="id-pick">', html)
    assert re.search(r'role="progressbar" aria-label="Progress of your ID photo"', html)
    for paper in ("4x6", "a4"):
        assert f'<li class="sheets__row" data-paper="{paper}">' in html
    assert_csp_friendly(html)
    # Signing in comes back to this mode.
    assert 'href="/accounts/login/?next=/%3Fmode%3Didphoto"' in html


def test_an_unknown_mode_shows_the_cut_out_mode(client):
    panels = panel_open_tags(client.get("/?mode=nonsense").content.decode())
    assert "hidden" not in panels["cutout"] and "hidden" in panels["idphoto"]
