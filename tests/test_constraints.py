"""requirements/constraints.txt pins every third-party distribution that the
core, the bundled plugins and the test extras reach, at the release this
virtualenv has (scripts/bootstrap installed it with those constraints): a
requirement added to a setup.cfg without running scripts/relock fails here."""

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
# Ours, installed from the tree: (distribution, extras).
OURS = [("consultroom", {"test"})] + [
    (f"consultroom-{path.name}", set()) for path in sorted((ROOT / "plugins").iterdir())
]

# What scripts/bootstrap installs besides the requirements: the installer
# and the build requirements.
BOOTSTRAP_TOOLS = {"uv", "setuptools", "wheel", "babel"}

pytestmark = pytest.mark.sqlite_only


def pinned():
    """{canonical name: version} of the constraints file."""
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def reached():
    """{canonical name: installed version} of every distribution that our
    distributions' requirements reach, with the extras they ask for."""
    found = {}
    todo = [(name, extras) for name, extras in OURS]
    seen = set()
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(name)
        if not name.startswith("consultroom"):
            found[canonicalize_name(name)] = dist.version
        for text in dist.requires or ():
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras | {""}
            )
            if wanted:
                todo.append((requirement.name, set(requirement.extras)))
    return found


def test_every_distribution_reached_is_pinned_at_its_installed_release():
    pins = pinned()
    wrong = {
        name: (version, pins.get(name, "not pinned"))
        for name, version in reached().items()
        if pins.get(name) != version
    }
    assert wrong == {}, "run scripts/relock: (installed, pinned) " + repr(wrong)


def test_nothing_is_pinned_that_nothing_needs():
    stale = set(pinned()) - set(reached()) - BOOTSTRAP_TOOLS
    assert stale == set(), "run scripts/relock"
