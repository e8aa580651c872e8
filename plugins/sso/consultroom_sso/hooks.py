"""Single sign-on's hook implementations: its buttons on the login page,
linking on the profile, "Configure SSO" in the organisation admins' menu,
and password logins refused where a connection says so."""

from pyramid.renderers import render

from consultroom.hookspecs import LoginMethod, MenuItem, fills_slots, hookimpl
from consultroom_sso.connections import connections_of
from consultroom_sso.i18n import _, page
from consultroom_sso.staff import identities_of
from consultroom_sso.views import enabled_connections

TEMPLATES = "consultroom_sso:templates/"


@hookimpl
@fills_slots("login", "profile", "staff_member")
def consultroom_template_slot(request, slot, context):
    if slot == "login":
        connections = enabled_connections(request)
        if connections:
            values = page(request, connections=connections, next=context.get("next", ""))
            return render(TEMPLATES + "login_buttons.html", values, request=request)
    if slot == "profile" and request.identity is not None:
        connections = enabled_connections(request)
        if connections:
            links = identities_of(request, request.identity)
            states = [(c, c.id in links) for c in connections]
            return render(TEMPLATES + "profile.html", page(request, states=states), request=request)
    if slot == "staff_member" and request.has_permission("organisation.manage"):
        return _staff_links(request, context["member"])
    return None


def _staff_links(request, member):
    connections = connections_of(request)
    if not connections:
        return None
    values = page(
        request, member=member, connections=connections, linked=identities_of(request, member)
    )
    return render(TEMPLATES + "staff.html", values, request=request)


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return None
    label = request.localizer.translate(_("Configure SSO"))
    return [
        MenuItem(label, request.route_path("sso.connections"), section="organisation", order=85)
    ]


@hookimpl
def consultroom_login_method(request, email, user):
    """No password where an enabled connection forbids it (every address
    alike: the answer does not tell who has an account)."""
    if any(not c.password_login for c in enabled_connections(request)):
        return LoginMethod(
            message=request.localizer.translate(
                _("Staff of this organisation log in with single sign-on: use a button below.")
            )
        )
    return None
