"""The bottom layer of the README's picture: the engine and the ID photo geometry are plain
libraries that the CLI, the workers and the benchmarks use without Django."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("remover.engine", "remover.idphoto")

# Imports every module of the libraries in a fresh interpreter (this one has Django loaded)
# and reports what it imported and which Django modules came along.
IMPORT_ALL = f"""
import importlib, json, pkgutil, sys
imported = []
for name in {LIBRARIES!r}:
    package = importlib.import_module(name)
    imported.append(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(module.name)
        imported.append(module.name)
django = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(json.dumps({{"imported": imported, "django": django}}))
"""


def test_engine_and_idphoto_import_no_django():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-c", IMPORT_ALL], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert {"remover.engine.pipeline", "remover.idphoto.pipeline"} <= set(found["imported"])
    assert found["django"] == [], f"the engine or idphoto pulls in Django: {found['django']}"
