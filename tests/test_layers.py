"""The import contracts of pyproject.toml (import-linter) hold, and they are
enforced: a copy of the package with one lower-layer module that imports a
feature, or a feature that imports a feature above it, breaks the layers;
one with a feature that imports another's views breaks "pages are
leaves"."""

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
    assert "2 kept, 0 broken" in result.stdout


def copy_of_the_package(tmp_path):
    package = tmp_path / "consultroom"
    shutil.copytree(
        ROOT / "core" / "consultroom",
        package,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "locale", "themes"),
    )
    return package


def test_an_import_from_a_lower_layer_into_a_feature_breaks_them(tmp_path):
    package = copy_of_the_package(tmp_path)
    (package / "web" / "scratch.py").write_text("from consultroom.clients import models\n")
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "consultroom.web is not allowed to import consultroom.clients" in result.stdout
    assert "consultroom.web.scratch -> consultroom.clients.models" in result.stdout


def test_a_feature_that_imports_a_higher_feature_breaks_them(tmp_path):
    # The cycle issue 10 found: the appointments mailing through clientmail.
    package = copy_of_the_package(tmp_path)
    (package / "appointments" / "scratch.py").write_text(
        "from consultroom.clientmail import hooks\n"
    )
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "consultroom.appointments is not allowed to import consultroom.clientmail" in (
        result.stdout
    )


def test_an_import_of_another_features_views_breaks_them(tmp_path):
    package = copy_of_the_package(tmp_path)
    (package / "twofactor" / "scratch.py").write_text("from consultroom.accounts import views\n")
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Pages are leaves: no package imports another's views BROKEN" in result.stdout
    assert "consultroom.twofactor.scratch -> consultroom.accounts.views" in result.stdout
