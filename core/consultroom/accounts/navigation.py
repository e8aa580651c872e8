"""Where a login sends the user next: the ``next`` parameter that the login
page, the second-factor pages and the prompt to turn two-factor
authentication on pass along, checked so it can only lead within the site."""


def safe_next(request):
    """The request's ``next`` parameter if it is a path on this site, else
    the home page. Never another host: an attacker's link to the login page
    must not send a freshly logged-in user to a look-alike site."""
    return safe_path(request, request.params.get("next", ""))


def safe_path(request, target):
    """``target`` if it is a path on this site, else the home page (see
    ``safe_next``); also for a ``next`` that a login provider carried
    through its own pages."""
    target = target or ""
    # Browsers read "//host" and "/\\host" as another site, and drop tabs and
    # newlines first (so "/<tab>/host" is one too); control characters would
    # also make the Location header invalid.
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isascii()
        and target.isprintable()
    ):
        return target
    return request.route_path("home")
