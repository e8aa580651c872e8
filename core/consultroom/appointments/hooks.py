"""The appointments feature's menu entries."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return None
    t = request.localizer.translate
    return [
        MenuItem(t(_("Today")), request.route_path("appointments_today"), order=15),
        MenuItem(t(_("Appointments")), request.route_path("appointments"), order=25),
        MenuItem(t(_("Quick consultation")), request.route_path("appointment_quick"), order=27),
    ]
