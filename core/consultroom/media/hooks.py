"""Where the network test is offered: the staff profile menu, and a link on
the client's waiting-room page."""

from pyramid.renderers import render

from consultroom.hookspecs import MenuItem, fills_slots, hookimpl
from consultroom.i18n import _


@hookimpl
def consultroom_menu_items(request):
    return [
        MenuItem(
            request.localizer.translate(_("Network test")),
            request.route_path("network_test"),
            section="profile",
            order=20,
        )
    ]


@hookimpl
@fills_slots("waiting_room")
def consultroom_template_slot(request, slot, context):
    if slot != "waiting_room":
        return None
    return render(
        "media/_waiting_room_link.html",
        {"url": request.route_path("client_network_test", token=context["appointment"].token)},
        request=request,
    )
