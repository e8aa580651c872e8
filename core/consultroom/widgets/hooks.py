"""The widgets feature's menu entry, and the open walk-in widgets told of
bookings (a booked time is never offered to walk-ins)."""

from datetime import timedelta

from consultroom.appointments.models import Kind
from consultroom.db import utcnow
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import _
from consultroom.realtime import publish_after_commit, walk_in_changed

# A booking further ahead changes no widget now; the widgets' clock (which
# knows a day ahead) wakes them in time for it.
SOON = timedelta(days=1)


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return []
    return [
        MenuItem(
            request.localizer.translate(_("Widgets")),
            request.route_path("widgets"),
            section="communication",
            order=60,
        )
    ]


def _soon(starts_at):
    return starts_at is not None and starts_at < utcnow() + SOON


def _tell_walk_in_widgets(request, appointment, before=None):
    """A booking near now (``before``: its time until this change) was made,
    moved or cancelled: the open walk-in widgets look again."""
    if appointment.kind is Kind.appointment and (_soon(appointment.starts_at) or _soon(before)):
        publish_after_commit(request, *walk_in_changed(appointment.organisation_id))


@hookimpl
def consultroom_appointment_created(request, appointment, notify):
    _tell_walk_in_widgets(request, appointment)


@hookimpl
def consultroom_appointment_changed(request, appointment, changes):
    _tell_walk_in_widgets(request, appointment, changes.get("starts_at"))


@hookimpl
def consultroom_appointment_cancelled(request, appointment):
    _tell_walk_in_widgets(request, appointment)
