"""The hook contract keeps its promises: every hookspec is documented in
docs/plugins.md (a reference generated from the hookspecs, so it cannot
drift), called somewhere by the core, and implemented by a plugin that the
test suite installs (a test plugin under tests/plugins/ or a bundled one
under plugins/), so that its door is tried the way a third party uses it."""

import ast
from functools import cache
from pathlib import Path

import pytest

from consultroom.plugins import reference

# No database.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
HOOKS = [name for name, _ in reference.hooks()]


def _python_files(*tops):
    for top in tops:
        for path in top.rglob("*.py"):
            # Built copies (setuptools' build/) are not the source.
            if "build" not in path.relative_to(top).parts:
                yield path


# The scans read and parse every source file: once per run, not once per hook.
@cache
def _called_by_the_core():
    """Hook names the core reaches: ``<anything>.consultroom_x(...)`` or
    named as a string (``call_lifecycle(id, "consultroom_x", ...)``)."""
    called = set()
    core = ROOT / "core" / "consultroom"
    for path in _python_files(core):
        if path.name == "hookspecs.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                called.add(node.value)
    return frozenset(called)


@cache
def _implemented_by_plugins():
    implemented = set()
    for path in _python_files(ROOT / "tests" / "plugins", ROOT / "plugins"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "hookimpl" for d in node.decorator_list
            ):
                implemented.add(node.name)
    return frozenset(implemented)


def test_the_reference_in_the_docs_is_generated_from_the_hookspecs():
    documented = reference.current((ROOT / "docs" / "plugins.md").read_text())
    assert documented, "docs/plugins.md has lost its hook reference markers"
    assert documented == reference.render(), "run scripts/hook-reference .venv-test"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_says_when_it_is_called(hook):
    doc = dict(reference.hooks())[hook].__doc__ or ""
    assert "Called" in doc, f"{hook}'s docstring must say when the core calls it"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_called_by_the_core(hook):
    assert hook in _called_by_the_core(), f"the core never calls {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_implemented_by_an_installed_test_or_bundled_plugin(hook):
    assert hook in _implemented_by_plugins(), (
        f"no plugin under tests/plugins/ or plugins/ implements {hook}"
    )


def test_the_scans_see_real_code():
    # Guards the guards: the scans would pass vacuously on an empty tree.
    assert {"consultroom_menu_items", "consultroom_template_slot"} <= _implemented_by_plugins()
    assert "consultroom_menu_items" in _called_by_the_core()
