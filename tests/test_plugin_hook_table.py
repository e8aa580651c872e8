"""docs/plugins.md's hook table lists every hook of the contract
(core/consultroom/hookspecs.py), with its arguments, and no other: a hook
added, renamed or given another argument must be documented for plugin
authors."""

import inspect
import re
from pathlib import Path

import pytest

from consultroom import hookspecs

# No database.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(consultroom_\w+)` \| `([^`]*)` \|", re.M)


def documented():
    return dict(ROW.findall((ROOT / "docs" / "plugins.md").read_text()))


def declared():
    return {
        name: ", ".join(inspect.signature(function).parameters)
        for name, function in vars(hookspecs).items()
        if name.startswith(hookspecs.PROJECT + "_") and callable(function)
    }


def test_every_hook_is_in_the_table_with_its_arguments():
    assert declared(), "no hookspecs found"
    assert documented() == declared()
