"""The staff's live waiting list page (the walk-in widgets it names are
added by consultroom.widgets.waiting_list)."""

from pyramid.view import view_config

from consultroom.realtime.pages import page_config
from consultroom.waitingroom import live
from consultroom.waitingroom.models import WalkInSwitch


@view_config(route_name="waiting_list", renderer="waitingroom/list.html", permission="staff")
def waiting_list(request):
    switch = request.dbsession.get(WalkInSwitch, request.user.id)
    config = page_config(request, {"type": "hello", "role": "staff"})
    config["walk_in_available"] = bool(switch and switch.available)
    colleagues, departments = live.transfer_targets(request.dbsession, live.Staff.of(request.user))
    return {"realtime": config, "colleagues": colleagues, "departments": departments}


def includeme(config):
    config.add_route("waiting_list", "/waiting-room", site="organisation")
    config.scan(__name__)
