"""The hook reference in docs/plugins.md, generated from the hook contract.

``consultroom.hookspecs`` is the contract; its signatures and docstrings are
what plugin authors read. This renders them (and the contract's value types,
such as ``MenuItem``) as Markdown between two markers in docs/plugins.md, so
that the documentation cannot drift from the code: a test compares the file
with a fresh rendering, and ``scripts/hook-reference`` rewrites it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from consultroom import hookspecs

BEGIN = (
    "<!-- hook reference: generated from core/consultroom/hookspecs.py"
    " by scripts/hook-reference; edit the docstrings, not this -->"
)
END = "<!-- end of the hook reference -->"
# Sphinx roles in the docstrings (":class:`~consultroom.x.Y`") read as code.
_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")


def _declared_in_order(module: ModuleType) -> list[tuple[str, Any]]:
    def line(item: tuple[str, Any]) -> int:
        return inspect.getsourcelines(item[1])[1]

    found = [
        (name, value)
        for name, value in vars(module).items()
        if getattr(value, "__module__", None) == module.__name__
        and (inspect.isfunction(value) or inspect.isclass(value))
    ]
    return sorted(found, key=line)


def hooks(module: ModuleType = hookspecs) -> list[tuple[str, Callable[..., object]]]:
    """The contract's hookspecs, in the order the module declares them."""
    prefix = hookspecs.PROJECT + "_"
    return [
        (name, value)
        for name, value in _declared_in_order(module)
        if name.startswith(prefix) and inspect.isfunction(value)
    ]


def value_types(module: ModuleType = hookspecs) -> list[tuple[str, type]]:
    """The dataclasses the contract hands to or takes from plugins."""
    return [
        (name, value)
        for name, value in _declared_in_order(module)
        if inspect.isclass(value) and dataclasses.is_dataclass(value)
    ]


def _prose(doc: str | None) -> str:
    return _ROLE.sub(r"`\1`", inspect.cleandoc(doc or "")).replace("``", "`")


def _summary(doc: str | None) -> str:
    return _prose(doc).split("\n\n")[0].replace("\n", " ").replace("|", "\\|")


def _is_firstresult(function: Callable[..., object]) -> bool:
    opts = getattr(function, hookspecs.PROJECT + "_spec", {})
    return bool(opts.get("firstresult"))


def _hook_section(name: str, function: Callable[..., object]) -> Iterator[str]:
    arguments = ", ".join(inspect.signature(function).parameters)
    yield f"### `{name}({arguments})`"
    yield ""
    if _is_firstresult(function):
        yield "*First result wins:* the core stops at the first implementation"
        yield "that returns something other than `None`, and uses that value."
        yield ""
    yield _prose(function.__doc__)
    yield ""


def _type_section(name: str, cls: type) -> Iterator[str]:
    fields = ", ".join(f"`{field.name}`" for field in dataclasses.fields(cls))
    yield f"### `{name}`"
    yield ""
    yield f"Import from `consultroom.hookspecs`. Fields: {fields}."
    yield ""
    yield _prose(cls.__doc__)
    yield ""


def render(module: ModuleType = hookspecs) -> str:
    """The Markdown between the markers, markers included."""
    lines = [BEGIN, "", "| Hook | Arguments | What it is for |", "|---|---|---|"]
    for name, function in hooks(module):
        arguments = ", ".join(inspect.signature(function).parameters)
        lines.append(f"| `{name}` | `{arguments}` | {_summary(function.__doc__)} |")
    lines.append("")
    for name, function in hooks(module):
        lines.extend(_hook_section(name, function))
    types = value_types(module)
    if types:
        lines += ["### Values the hooks use", ""]
        for name, cls in types:
            lines.extend(_type_section(name, cls))
    lines.append(END)
    return "\n".join(lines)


def current(text: str) -> str:
    """The generated part of a docs/plugins.md text ("" when it has none)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(END)]


def rewrite(path: Path) -> bool:
    """Put a fresh rendering between the markers of ``path``; True if it changed."""
    text = path.read_text()
    old = current(text)
    if not old:
        raise SystemExit(f"{path} has no hook reference markers ({BEGIN!r} ... {END!r})")
    new = text.replace(old, render())
    path.write_text(new)
    return new != text


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/plugins.md")
    print(f"{target}: {'updated' if rewrite(target) else 'up to date'}")
