"""Bad input refused before any view runs, so that no view has to.

Every view (core and plugin, pages and API) is wrapped by a view deriver
that checks the request's query string and form fields: text that is not
UTF-8, or holds control characters other than tab and line breaks (NUL
above all: PostgreSQL refuses it outright), is answered with a 400. File
parts of an upload are not text and are not checked. An address that is
not UTF-8 never reaches a view: routing itself fails (URLDecodeError), and
errors.py answers that with a 400 too.

``parse_json`` is ``json.loads`` for input: JSON nested too deeply for the
parser is a ValueError like any other bad JSON, not a RecursionError.
"""
import json
import re
from urllib.parse import parse_qsl

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.viewderivers import INGRESS

from consultroom.i18n import _

# C0 controls and DEL, except tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORM = "application/x-www-form-urlencoded"


class BadInput(HTTPBadRequest):
    """The query or form held text no view should see."""

    def __init__(self):
        super().__init__(_("The address or the form contained characters that cannot be"
                           " used, such as control characters. Remove them and try again."))


def parse_json(data):
    """``data`` (str or bytes) as JSON; ValueError when it is not JSON,
    not UTF-8, or nested too deeply to read."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _fields(request):
    """Every (name, value) of the query and the form, strictly decoded."""
    fields = list(request.GET.items())  # decodes strictly: UnicodeDecodeError
    if request.content_type == FORM:
        # webob replaces bytes that are not UTF-8 in a form body; read it
        # again, strictly (both raw and %-escaped bytes).
        fields += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True,
                            encoding="utf-8", errors="strict")
    else:
        fields += request.POST.items()  # a multipart form: files are not str
    return fields


def check(request):
    """Raise BadInput unless the query and form are clean text."""
    try:
        fields = _fields(request)
    except UnicodeDecodeError:
        raise BadInput() from None
    for name, value in fields:
        if CONTROL.search(name) or (isinstance(value, str) and CONTROL.search(value)):
            raise BadInput()


def clean_input_view(view, info):
    """The view deriver: check, then run the view. Exception views (the
    error pages) are not checked: they answer whatever came in."""

    def wrapper(context, request):
        if request.exception is None:
            check(request)
        return view(context, request)

    return wrapper


def includeme(config):
    # Before the CSRF check, which reads the form.
    config.add_view_deriver(clean_input_view, under=INGRESS, over="csrf_view")
