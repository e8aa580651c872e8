"""The accounts feature's own hook implementations: its menu entries, and
refusing to delete a department that still has staff."""

from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    t = request.localizer.translate
    items = [
        MenuItem(t(_("Dashboard")), request.route_path("home"), order=10),
        MenuItem(t(_("My profile")), request.route_path("profile"), section="profile", order=10),
    ]
    if request.has_permission("department.manage"):
        items.append(
            MenuItem(t(_("Staff")), request.route_path("staff"), section="people", order=30)
        )
    return items


@hookimpl
def consultroom_department_delete_blockers(request, department):
    count = request.dbsession.scalar(
        select(func.count()).select_from(User).where(User.department_id == department.id)
    )
    if count:
        return [_("${n} staff member(s) still belong to this department.", mapping={"n": count})]
    return None
