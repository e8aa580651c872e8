"""The import layers of pyproject.toml's import-linter contract hold, and
they are enforced: a copy of the package with one lower-layer module that
imports a feature breaks the contract."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only  # no database

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [LINT_IMPORTS, "--config", ROOT / "pyproject.toml", "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_from_a_lower_layer_into_a_feature_breaks_them(tmp_path):
    package = tmp_path / "consultroom"
    shutil.copytree(
        ROOT / "core" / "consultroom",
        package,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "locale", "themes"),
    )
    (package / "web" / "scratch.py").write_text("from consultroom.clients import models\n")
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "consultroom.web is not allowed to import consultroom.clients" in result.stdout
    assert "consultroom.web.scratch -> consultroom.clients.models" in result.stdout
