"""The clients feature's own hook implementations: its menu entries, and
refusing to delete a department that still has clients."""

from sqlalchemy import func, select

from consultroom.clients.models import client_department
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return None
    t = request.localizer.translate
    return [
        MenuItem(t(_("Clients")), request.route_path("clients"), order=20),
        MenuItem(t(_("Groups")), request.route_path("groups"), order=50),
        MenuItem(t(_("Participants")), request.route_path("participants"), order=55),
    ]


@hookimpl
def consultroom_department_delete_blockers(request, department):
    # Every client counts, also those the admin cannot see: the department
    # would otherwise vanish from them unnoticed.
    count = request.dbsession.scalar(
        select(func.count())
        .select_from(client_department)
        .where(client_department.c.department_id == department.id)
    )
    if count:
        return [_("${n} client(s) still belong to this department.", mapping={"n": count})]
    return None
