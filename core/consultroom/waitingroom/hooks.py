"""Menu entries of the waiting-room texts."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    t = request.localizer.translate
    items = []
    if request.has_permission("organisation.manage"):
        items.append(
            MenuItem(
                t(_("Waiting-room text")),
                request.route_path("waiting_room_text"),
                section="communication",
                order=38,
            )
        )
    if request.has_permission("department.manage"):
        items.append(
            MenuItem(
                t(_("Service messages")),
                request.route_path("service_messages"),
                section="communication",
                order=40,
            )
        )
    return items
