"""The API's errors: always JSON ``{"error": "...", "details": [...]}`` with
the right status, also for unknown addresses and methods under /api/."""

from pyramid.exceptions import PredicateMismatch
from pyramid.response import Response
from pyramid.view import notfound_view_config, view_config
from translationstring import TranslationString

from consultroom.i18n import _

# Clearer words for the validation problems callers meet most.
MESSAGES = {
    "extra_forbidden": "Unknown field.",
    "missing": "This field is required.",
    "timezone_aware": "Give the time with its UTC offset, e.g. 2024-05-01T09:00:00+02:00"
    " or 2024-05-01T07:00:00Z.",
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
        message = MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
        details.append(detail(field, message))
    return details


def error_response(request, status, message, details=(), headers=None):
    if isinstance(message, TranslationString):
        message = request.localizer.translate(message)
    details = [
        {
            **d,
            "message": request.localizer.translate(d["message"])
            if isinstance(d["message"], TranslationString)
            else d["message"],
        }
        for d in details
    ]
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
