"""Bad input refused before any view runs, so that no view has to.

Every view (core and plugin) is wrapped by a view deriver that answers with
a 400 a query string or form body that is not UTF-8, and a path segment (as
routing decoded it) that holds a control character: no view can use either,
and NUL above all reaches PostgreSQL as an error. An address that is not
UTF-8 never reaches a view: routing itself fails (URLDecodeError), and
errors.py answers that with a 400 too.

Control characters in a query or form value are left to the view, which can
say which field is wrong: every WTForms form refuses them (web/forms.py), and
a search drops them. A view that checks all its input itself says so with
``checks_own_input=True``: the REST API, whose per-field answers serve a
program better than one 400. File parts of an upload are not text and are
not checked.

``parse_json`` is ``json.loads`` for input: JSON nested too deeply for the
parser is a ValueError like any other bad JSON, not a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.viewderivers import INGRESS

from consultroom.i18n import _

if TYPE_CHECKING:
    # Pyramid has no type information: these are Any to mypy, named for the reader.
    from pyramid.config import Configurator
    from pyramid.interfaces import IViewDeriverInfo
    from pyramid.request import Request
    from pyramid.response import Response

# A view as view derivers see it: called with the context and the request.
View = Callable[[object, "Request"], "Response"]

# C0 controls and DEL, except tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORM = "application/x-www-form-urlencoded"


# Pyramid has no type information: its HTTPBadRequest is Any to mypy.
class BadInput(HTTPBadRequest):  # type: ignore[misc]
    """The address, query or form held bytes no view should see."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "The address or the form contained characters that cannot be"
                " used, such as control characters. Remove them and try again."
            )
        )


def parse_json(data: str | bytes) -> Any:
    """``data`` (str or bytes) as JSON; ValueError when it is not JSON,
    not UTF-8, or nested too deeply to read."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _decodes(request: Request) -> bool:
    """Whether the query and the form body are UTF-8 (strictly: webob would
    replace what is not UTF-8 in a form body)."""
    try:
        request.GET  # noqa: B018  (decodes the query strictly)
        if request.content_type == FORM:
            parse_qsl(
                request.body.decode("utf-8"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
            )
    except UnicodeDecodeError:
        return False
    return True


def _clean_path(request: Request) -> bool:
    for value in (request.matchdict or {}).values():
        segments = value if isinstance(value, tuple) else (value,)  # *subpath: a tuple
        if any(CONTROL.search(segment) for segment in segments):
            return False
    return True


def check(request: Request) -> None:
    """Raise BadInput unless the path, query and form can be read as text."""
    if not (_decodes(request) and _clean_path(request)):
        raise BadInput()


def clean_input_view(view: View, info: IViewDeriverInfo) -> View:
    """The view deriver: check, then run the view. Exception views (the
    error pages) are not checked: they answer whatever came in."""
    if info.options.get("checks_own_input"):
        return view

    def wrapper(context: object, request: Request) -> Response:
        if request.exception is None:
            check(request)
        return view(context, request)

    return wrapper


# The view options the deriver takes, where Pyramid looks for them; mypy
# knows no attributes of a function.
clean_input_view.options = ("checks_own_input",)  # type: ignore[attr-defined]


def includeme(config: Configurator) -> None:
    # Before the CSRF check, which reads the form.
    config.add_view_deriver(clean_input_view, under=INGRESS, over="csrf_view")
