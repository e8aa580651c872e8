"""The widgets feature's menu entry."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return []
    return [
        MenuItem(
            request.localizer.translate(_("Widgets")),
            request.route_path("widgets"),
            section="communication",
            order=60,
        )
    ]
