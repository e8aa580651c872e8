"""The audit trail's menu entry."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("Audit trail")),
            request.route_path("audit_log"),
            section="organisation",
            order=90,
        )
    ]
