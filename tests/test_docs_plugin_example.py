"""docs/plugins.md's complete example is the installed test plugin under
tests/plugins/notes/, whose own tests run with this suite: the documentation
cannot drift from working code."""

import re
from pathlib import Path

import pytest

# No database.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def test_every_file_of_the_example_is_the_tested_plugin():
    blocks = BLOCK.findall((ROOT / "docs" / "plugins.md").read_text())
    assert len(blocks) == 6
    for path, text in blocks:
        assert (ROOT / "tests" / "plugins" / "notes" / path).read_text() == text, path


def test_the_example_plugin_is_installed(plugin_registry):
    notes = plugin_registry.get("notes")
    assert notes is not None and notes.usable and notes.version == "1.0.0"
