"""Badges that plugins put on what staff see listed: the rows of the
clients and appointments lists (``consultroom_list_badges``) and the
entries of the live waiting list (``consultroom_waiting_list_annotations``).
A badge is short and has one of three tones; anything else a plugin returns
is cut or toned down here, in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyramid.request import Request  # untyped: Any to mypy, named for the reader

TONES = {"info", "ok", "warning"}
MAX_TEXT = 60


def collect(results: Iterable[Iterable[Any] | None], key: str) -> dict[Any, list[dict[str, str]]]:
    """``{badge.<key>: [{"text", "tone"[, "url"]}, ...]}`` from the hook's
    results (lists of badges, or None), in order."""
    found: dict[Any, list[dict[str, str]]] = {}
    for badge in (badge for result in results for badge in result or ()):
        item = {
            "text": str(badge.text)[:MAX_TEXT],
            "tone": badge.tone if badge.tone in TONES else "info",
        }
        url = getattr(badge, "url", "")
        if url:
            item["url"] = url
        found.setdefault(getattr(badge, key), []).append(item)
    return found


def list_badges(request: Request, list_name: str, rows: Iterable[Any]) -> dict[Any, Any]:
    """Row id -> badges, for one page of the staff list ``list_name``."""
    rows = list(rows)
    if not rows:
        return {}
    results = request.hooks.consultroom_list_badges(request=request, list_name=list_name, rows=rows)
    return collect(results, "row_id")
