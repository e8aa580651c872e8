"""The "Waiting room" menu entry, with the number of waiting clients."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _
from consultroom.waitingroom.live import Staff, waiting_count


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return []
    grace = request.registry["realtime_limits"].grace_seconds
    count = waiting_count(request.dbsession, Staff.of(request.user), grace)
    label = request.localizer.translate(_("Waiting room"))
    if count:
        label = f"{label} ({count})"
    return [
        MenuItem(
            label, request.route_path("waiting_list"), section="main", order=5, icon="waiting-room"
        )
    ]
