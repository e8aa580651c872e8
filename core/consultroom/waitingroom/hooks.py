"""Menu entries of the waiting-room texts."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    t = request.localizer.translate
    items = []
    if request.has_permission("department.manage"):
        # A department admin writes their department's texts per language;
        # the organisation admin starts from the organisation's own text.
        own = request.has_permission("organisation.manage")
        items.append(
            MenuItem(
                t(_("Waiting-room text")),
                request.route_path("waiting_room_text")
                if own
                else request.route_path("client_texts", kind="waiting-room"),
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
