"""`manage.py removebg`: files and folders in, one output per good file, non-zero exit on failures."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from tests.conftest import png_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inputs(tmp_path, astronaut):
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    small = astronaut[::2, ::2]
    (folder / "a.png").write_bytes(png_bytes(small))
    Image.fromarray(small).save(folder / "nested" / "b.jpg", quality=90)
    (folder / "notes.txt").write_text("not an image, and not picked up from a folder")
    return folder


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("removebg", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_folder_in_transparent_png_out(inputs, tmp_path):
    out_dir = tmp_path / "out"
    stdout, _ = run(str(inputs), "--out", str(out_dir))
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.png", "b.png"]
    result = Image.open(out_dir / "a.png")
    assert result.mode == "RGBA" and result.size == (256, 256)
    alpha = np.asarray(result)[..., 3]
    assert alpha[65:75, 100:120].min() > 240 and alpha[10:60, 190:250].max() < 10
    assert "100%" in stdout and "-> " in stdout


def test_solid_background_jpg_and_mask(inputs, tmp_path):
    run(str(inputs / "a.png"), "--out", str(tmp_path / "jpg"), "--format", "jpg", "--bg", "#FF0000")
    jpg = np.asarray(Image.open(tmp_path / "jpg" / "a.jpg"))
    assert jpg.shape == (256, 256, 3) and jpg[20, 220, 0] > 230 and jpg[20, 220, 1] < 30
    run(str(inputs / "a.png"), "--out", str(tmp_path / "mask"), "--mask")
    mask = Image.open(tmp_path / "mask" / "a.png")
    assert mask.mode == "L" and mask.size == (256, 256)
    mask = np.asarray(mask)
    assert mask[65:75, 100:120].min() == 255 and mask[10:60, 190:250].max() == 0  # face, backdrop


def test_background_image_path(inputs, tmp_path):
    scene = np.zeros((64, 64, 3), np.uint8)
    scene[..., 2] = 255
    Image.fromarray(scene).save(tmp_path / "scene.png")
    run(str(inputs / "a.png"), "--out", str(tmp_path / "o"), "--bg", str(tmp_path / "scene.png"), "--format", "webp")
    result = np.asarray(Image.open(tmp_path / "o" / "a.webp").convert("RGB"))
    assert result[20, 220, 2] > 230 and result[20, 220, 0] < 30


def test_bad_files_are_reported_and_the_rest_still_processed(inputs, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out_dir = tmp_path / "out"
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 of 4 images failed"):
        call_command("removebg", str(bad), str(inputs), str(empty), "--out", str(out_dir), stdout=io.StringIO(), stderr=err)
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.png", "b.png"]
    assert "broken.jpg" in err.getvalue() and "empty.png" in err.getvalue()


def test_missing_file_and_bad_options_fail_clearly(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.png"), "--out", str(tmp_path / "o"))
    with pytest.raises(CommandError, match="--bg"):
        run(str(tmp_path / "nope.png"), "--out", str(tmp_path / "o"), "--bg", "not-a-colour-or-file")


def test_the_command_line_exit_status_and_outputs(inputs, tmp_path):
    """The real entry point, which leaves with os._exit: outputs complete, messages out, status kept."""
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    out_dir = tmp_path / "out"
    command = [sys.executable, "manage.py", "removebg", str(bad), str(inputs / "a.png"), "--out", str(out_dir)]
    failed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "broken.jpg" in failed.stderr and "1 of 2 images failed" in failed.stderr
    assert np.asarray(Image.open(out_dir / "a.png")).shape == (256, 256, 4)  # written whole
    done = subprocess.run(command[:3] + command[4:], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "-> " in done.stdout, done.stderr
