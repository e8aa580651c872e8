"""The API's errors: always JSON ``{"error": "...", "details": [...]}`` with
the right status, also for unknown addresses and methods under /api/.

Their texts are in the caller's language: the one its request asks for
(Accept-Language, or a staff session's own), else the organisation's. The
messages of validation problems are ours where we have clearer words, and
our schemas' own checks' (``ValueError(_(...))``); pydantic's other
messages stay in its own English."""

from pyramid.exceptions import PredicateMismatch
from pyramid.response import Response
from pyramid.view import notfound_view_config, view_config
from translationstring import TranslationString

from consultroom.i18n import LANGUAGES, _, localizer_for

# Clearer words for the validation problems callers meet most.
MESSAGES = {
    "extra_forbidden": _("Unknown field."),
    "missing": _("This field is required."),
    "timezone_aware": _(
        "Give the time with its UTC offset, e.g. 2024-05-01T09:00:00+02:00 or 2024-05-01T07:00:00Z."
    ),
}


class ApiError(Exception):
    """Raised by API views; the transaction is aborted and the caller gets
    ``status`` with ``message`` (a translation string or text)."""

    def __init__(self, status, message, details=()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)


def detail(field, message):
    return {"field": field, "message": message}


def validation_details(exc):
    """A pydantic ValidationError as one detail per field."""
    details = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        details.append(detail(field, _message(error)))
    return details


def _message(error):
    """Our words for a pydantic error, or its own."""
    cause = error.get("ctx", {}).get("error")  # an exception, or pydantic's own text
    said = getattr(cause, "args", None)
    if said and isinstance(said[0], TranslationString):
        return said[0]  # a check of our schemas, ValueError(_(...))
    return MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))


def _localizer(request):
    """The caller's language: what the request asks for, else the organisation's."""
    if "Accept-Language" in request.headers or request.identity is not None:
        return request.localizer
    organisation = request.organisation
    if organisation is not None and organisation.language in LANGUAGES:
        return localizer_for(request.registry, organisation.language)
    return request.localizer


def error_response(request, status, message, details=(), headers=None):
    localizer = _localizer(request)

    def translated(text):
        return localizer.translate(text) if isinstance(text, TranslationString) else text

    message = translated(message)
    details = [{**d, "message": translated(d["message"])} for d in details]
    response = Response(
        json_body={"error": message, "details": details}, status=status, charset="utf-8"
    )
    response.headers.update(headers or {})
    return response


@view_config(context=ApiError)
def api_error(exc, request):
    return error_response(request, exc.status, exc.message, exc.details)


@notfound_view_config(path_info=r"^/api/")
def api_not_found(exc, request):
    # A route that matched but has no view for this method.
    if isinstance(exc, PredicateMismatch) and request.matched_route is not None:
        return error_response(request, 405, _("This method is not allowed here."))
    return error_response(request, 404, _("Not found."))
