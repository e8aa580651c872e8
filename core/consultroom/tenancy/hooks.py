"""The tenancy feature's menu entries."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    t = request.localizer.translate
    items = []
    if request.has_permission("organisation.manage"):
        items += [
            MenuItem(
                t(_("My organisation")),
                request.route_path("organisation"),
                section="organisation",
                order=10,
            ),
            MenuItem(
                t(_("Advanced settings")),
                request.route_path("advanced_settings"),
                section="organisation",
                order=15,
            ),
        ]
    if request.has_permission("department.manage"):
        items.append(
            MenuItem(
                t(_("Departments")),
                request.route_path("departments"),
                section="people",
                order=20,
            )
        )
    return items
