"""The staff's live waiting list page."""

from pyramid.view import view_config
from sqlalchemy import select

from consultroom.realtime.pages import page_config
from consultroom.waitingroom import live_hooks
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.widgets.models import WalkInWidget


@view_config(route_name="waiting_list", renderer="waitingroom/list.html", permission="staff")
def waiting_list(request):
    user = request.user
    switch = request.dbsession.get(WalkInSwitch, user.id)
    widgets = request.dbsession.scalars(
        select(WalkInWidget)
        .where(WalkInWidget.organisation_id == request.organisation.id)
        .order_by(WalkInWidget.name)
    ).all()
    config = page_config(request, {"type": "hello", "role": "staff"})
    config["walk_in_available"] = bool(switch and switch.available)
    return {
        "realtime": config,
        "walk_in_widgets": [
            w for w in widgets if not w.departments or user.department in w.departments
        ],
    }


def includeme(config):
    config.registry.plugins.register_core(live_hooks)
    config.add_route("waiting_list", "/waiting-room", site="organisation")
    config.scan(__name__)
