"""Error pages: unknown organisation or page (404), not allowed (403 or the
login page), an expired form, bad input or an address that is not UTF-8
(400). Never a traceback for the user."""

from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFToken, URLDecodeError
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.traversal import DefaultRootFactory
from pyramid.view import forbidden_view_config, notfound_view_config, view_config

from consultroom.i18n import _
from consultroom.ratelimit import Limit, TooManyTries
from consultroom.web.sites import UNKNOWN


def _page(request, status, title, message):
    response = render_to_response(
        "error.html", {"title": title, "message": message}, request=request
    )
    response.status = status
    return response


@notfound_view_config()
def not_found(request):
    if request.site == UNKNOWN:
        return _page(
            request,
            404,
            _("Organisation not found"),
            _("There is no organisation at this address. Check the link you were given."),
        )
    return _page(
        request, 404, _("Page not found"), _("This page does not exist, or you cannot see it.")
    )


@forbidden_view_config()
def forbidden(request):
    if request.identity is None and request.method == "GET":
        return HTTPFound(request.route_url("login", _query={"next": request.path_qs}))
    return _page(request, 403, _("Not allowed"), _("Your account may not open this page."))


@view_config(context=BadCSRFToken)
def bad_csrf(request):
    get_csrf_token(request)  # make sure the next form gets a fresh token
    return _page(
        request,
        400,
        _("Form expired"),
        _(
            "This form was open too long or came from elsewhere. Go back,"
            " reload the page and try again."
        ),
    )


@view_config(context=TooManyTries)
def too_many_tries(exc, request):
    return _page(request, 429, _("Too many attempts"), Limit.message(exc.remaining))


@view_config(context=HTTPBadRequest)
def bad_request(exc, request):
    return _page(request, 400, _("Invalid request"), exc.detail or _("Invalid request"))


@view_config(context=URLDecodeError)
def bad_address(request):
    # Routing failed before it chose a context, and the page around the
    # message reads the path (the menu, the login link): give it the context
    # of an address no route matches, and the path with the bytes that are
    # not UTF-8 replaced.
    request.context = DefaultRootFactory(request)
    raw = request.environ.get("PATH_INFO", "").encode("latin-1")
    request.path_info = raw.decode("utf-8", "replace")
    return _page(
        request,
        400,
        _("Invalid address"),
        _("This address contains characters that cannot be used. Check the link you were given."),
    )


def includeme(config):
    config.scan(__name__)
