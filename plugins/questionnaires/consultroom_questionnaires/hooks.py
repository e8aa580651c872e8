"""The questionnaires plugin's hook implementations: its menu entry for
administrators."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom_questionnaires.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("department.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("Questionnaires")),
            request.route_path("questionnaires.list"),
            section="communication",
            order=60,
        )
    ]
