"""The payments plugin's hook implementations: its menu entry for
organisation admins."""

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom_payments.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return None
    label = request.localizer.translate(_("Payments"))
    return [MenuItem(label, request.route_path("payments.rates"), section="organisation", order=60)]
