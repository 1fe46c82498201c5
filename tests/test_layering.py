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


def module_imports(path: Path, name: str) -> set[str]:
    """The ``remover`` modules that module ``name`` (file ``path``) imports, at the top or
    inside a function (a late import hides a cycle, it does not remove it)."""
    import ast

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module.startswith("remover")}


def test_the_packages_import_no_cycle():
    """The layers of the README's code map: no module of remover/ imports, through others,
    itself (``dispatch.py`` and ``worker.py`` once imported each other)."""
    modules = {}
    for path in sorted((ROOT / "remover").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {name: {m for m in module_imports(path, name) if m in modules and m != name} for name, path in modules.items()}
    assert {"remover.web.page_api", "remover.processing.jobs"} <= graph.keys()
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(target):] + [target]))
            if target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
