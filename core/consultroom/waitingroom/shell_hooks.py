"""The live count of waiting clients in the staff shell's header (the
``top_bar`` slot), on every staff page of an organisation: rendered with
the count of now, kept live over the page's socket (static/js/waitingcount.js)."""

from pyramid.renderers import render

from consultroom.hookspecs import hookimpl
from consultroom.realtime.pages import page_config
from consultroom.waitingroom.live import Staff, waiting_count


@hookimpl
def consultroom_template_slot(request, slot, context):
    if slot != "top_bar" or request.organisation is None or not request.has_permission("staff"):
        return None
    grace = request.registry["realtime_limits"].grace_seconds
    values = {
        "count": waiting_count(request.dbsession, Staff.of(request.user), grace),
        "realtime": page_config(request, {"type": "hello", "role": "staff"}),
    }
    return render("waitingroom/_shell_count.html", values, request=request)
