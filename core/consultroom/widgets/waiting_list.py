"""The walk-in widgets a staff member feeds, shown on the live waiting list
(the waiting room's page ``waitingroom/list.html``, value
``walk_in_widgets``): the waiting room sits below the widgets and does not
know them, so they add themselves to its page as it renders."""

from pyramid.events import BeforeRender
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consultroom.widgets.models import WalkInWidget


def fed_by(request, user):
    """The organisation's walk-in widgets listing ``user``: those of all
    departments, and those of the user's."""
    widgets = request.dbsession.scalars(
        select(WalkInWidget)
        .where(WalkInWidget.organisation_id == request.organisation.id)
        .options(selectinload(WalkInWidget.departments))
        .order_by(WalkInWidget.name)
    ).all()
    return [w for w in widgets if not w.departments or user.department in w.departments]


def _add_to_waiting_list(event):
    if event["renderer_name"] == "waitingroom/list.html":
        request = event["request"]
        event["walk_in_widgets"] = fed_by(request, request.user)


def includeme(config):
    config.add_subscriber(_add_to_waiting_list, BeforeRender)
