"""The scheduling feature's menu entry."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return []
    return [
        MenuItem(
            request.localizer.translate(_("Availability")),
            request.route_path("availability"),
            order=40,
        )
    ]
