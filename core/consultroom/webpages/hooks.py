"""The web pages' menu entry, beside the widgets they show."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return []
    return [
        MenuItem(
            request.localizer.translate(_("Web pages")),
            request.route_path("webpages"),
            section="communication",
            order=65,
        )
    ]
