"""The walk-in widget page, live: its socket (role ``walk_in``,
docs/realtime.md "Walk-in widget") hears who is offered and who is busy
whenever that changes.

The page is public and often inside another site's iframe, but the iframe's
document is the organisation's own page, so its socket passes the Origin
check like any other. Its hello names the widget (a public id, not a
secret); the widget is looked up in the socket's organisation only, and the
socket listens to that organisation's channel only
(``consultroom.realtime.walk_in_channel``), so a widget hears nobody else's
staff.

Whatever may change the list publishes ``_walk_in_changed`` there: a walk-in
switch, a staff member entering or leaving a room, an availability block, a
booking. Each socket then loads its list again (one short transaction) and
sends it only when it changed. Changes that come with time alone (a block or
a booking begins or ends) are told by this process's clock: one greenlet
that, once a second, asks the sockets whose list's ``changes_at`` has come
to load it again.
"""

import re

import gevent
from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.realtime import walk_in_channel
from consultroom.realtime.connection import Refused
from consultroom.tenancy.models import Organisation
from consultroom.widgets.models import WalkInWidget
from consultroom.widgets.offer import walk_in_offer

ROLE = "walk_in"
CLOCK = "walk_in_clock"
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,20}")
UNKNOWN = _("This walk-in widget does not exist.")
# Bus messages that mean "load the list again": a change, the clock, or a
# bus reconnect (the connection's own resync).
RELOAD = {"_walk_in_changed", "_resync"}


def offer_message(request, widget, offer):
    """What the page shows: ``walk_in_list`` (docs/realtime.md)."""
    return {
        "type": "walk_in_list",
        "available": [
            {
                "id": user.id,
                "name": user.name,
                "url": request.route_path("walk_in_intake", public_id=widget.public_id, id=user.id),
            }
            for user in offer.available
        ],
        "busy": [{"id": user.id, "name": user.name} for user in offer.busy],
    }


class WalkInRole:
    """One open walk-in widget page."""

    name = ROLE

    def __init__(self, connection, widget_id):
        self.conn = connection
        self.widget_id = widget_id
        self.sent = None
        self.due = None  # naive UTC: when time alone changes the list next

    def start(self):
        self.conn.subscribe(walk_in_channel(self.conn.organisation_id))
        clock(self.conn.registry).roles.add(self)
        self.reload()

    def stop(self):
        clock(self.conn.registry).roles.discard(self)

    def on_bus(self, message):
        if message.get("type") in RELOAD:
            self.reload()

    def reload(self):
        message, self.due = self.conn.transaction(self._load)
        if message != self.sent:
            self.sent = message
            self.conn.send(message)

    def _load(self, dbsession, events):
        organisation = dbsession.get(Organisation, self.conn.organisation_id)
        widget = _find(dbsession, self.conn.organisation_id, widget_id=self.widget_id)
        if widget is None:  # deleted while the page is open: nobody to offer
            return {"type": "walk_in_list", "available": [], "busy": []}, None
        offer = walk_in_offer(dbsession, organisation, widget)
        return offer_message(self.conn.request, widget, offer), offer.changes_at


def _find(dbsession, organisation_id, widget_id=None, public_id=None):
    """The organisation's widget by id or by public id, or None."""
    if widget_id is not None:
        key = WalkInWidget.id == widget_id
    else:
        key = WalkInWidget.public_id == public_id
    return dbsession.scalar(
        select(WalkInWidget).where(WalkInWidget.organisation_id == organisation_id, key)
    )


def authenticate(connection, hello):
    """The widget page's role, for a widget of the socket's organisation."""
    public_id = hello.get("widget")
    if not isinstance(public_id, str) or not PUBLIC_ID.fullmatch(public_id):
        raise Refused("unauthorized", UNKNOWN)
    request = connection.request
    with request.tm:
        widget = _find(request.dbsession, connection.organisation_id, public_id=public_id)
        widget_id = widget.id if widget is not None else None
    if widget_id is None:
        raise Refused("unauthorized", UNKNOWN)
    return WalkInRole(connection, widget_id)


class Clock:
    """This process's one greenlet that wakes the walk-in sockets whose
    list changes with time (see the module)."""

    def __init__(self):
        self.roles = set()
        self.greenlet = gevent.spawn(self._run)

    def _run(self):
        while True:
            gevent.sleep(1)
            now = utcnow()
            for role in list(self.roles):
                if role.due is not None and role.due <= now:
                    role.due = None  # asked once; the reload sets the next
                    role.conn.resync()  # "load again", in the socket's own greenlet


def clock(registry):
    """This process's clock, started with its first walk-in socket (in the
    process that serves it)."""
    found = registry.get(CLOCK)
    if found is None:
        found = registry[CLOCK] = Clock()
    return found


def includeme(config):
    # The widgets come before consultroom.realtime in the app's features.
    config.include("consultroom.realtime.door")
    config.add_realtime_role(ROLE, authenticate)
