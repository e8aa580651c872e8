"""The live count of waiting clients in the staff shell's header (the
``top_bar`` slot), on every staff page of an organisation: rendered with
the count of now, kept live over the page's socket (static/js/waitingcount.js)."""

from pyramid.renderers import render

from consultroom.hookspecs import fills_slots, hookimpl
from consultroom.realtime.pages import page_config
from consultroom.waitingroom.live import Staff, waiting_count


def shown_waiting_count(request):
    """How many clients wait in the logged-in staff member's list: counted
    once per request, as the menu and the header both show it."""
    if "waiting_count" not in request.__dict__:
        grace = request.registry["realtime_limits"].grace_seconds
        request.__dict__["waiting_count"] = waiting_count(
            request.dbsession, Staff.of(request.user), grace
        )
    count: int = request.__dict__["waiting_count"]
    return count


@hookimpl
@fills_slots("top_bar")
def consultroom_template_slot(request, slot, context):
    if slot != "top_bar" or request.organisation is None or not request.has_permission("staff"):
        return None
    values = {
        "count": shown_waiting_count(request),
        "realtime": page_config(request, {"type": "hello", "role": "staff"}),
    }
    return render("waitingroom/_shell_count.html", values, request=request)
