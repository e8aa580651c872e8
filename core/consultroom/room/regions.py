"""The room's regions that plugins fill (``consultroom_room_regions``):
toolbar buttons, side-panel tabs, overlays over the stage and their scripts,
collected for the page that shows the room: the staff room, the guest's
invitation page and the client's waiting page."""

from dataclasses import dataclass, field

from markupsafe import Markup
from pyramid.events import BeforeRender

from consultroom.hookspecs import RoomButton, RoomOverlay, RoomScript, RoomTab

# The pages that include templates/room/_room.html, and who sees them.
ROOM_PAGES = {"room/room.html": None, "waitingroom/waiting.html": "client"}


@dataclass
class Regions:
    buttons: list = field(default_factory=list)
    tabs: list = field(default_factory=list)
    overlays: list = field(default_factory=list)
    scripts: list = field(default_factory=list)


def _html(region):
    # A plugin's fragment is trusted HTML by contract (the hookspec says it
    # escapes user data): mark it so that the template does not escape it.
    return {"id": region.id, "label": region.label, "html": Markup(region.html)}  # nosec B704


def room_regions(request, role, room):
    """What the plugins enabled for the request's organisation add to the
    room for ``role``, each kind sorted by its order."""
    found = Regions()
    results = request.hooks.consultroom_room_regions(request=request, role=role, room=room)
    for region in (r for result in results for r in result or ()):
        if isinstance(region, RoomButton):
            found.buttons.append((region.order, {"id": region.id, "label": region.label}))
        elif isinstance(region, RoomTab):
            found.tabs.append((region.order, _html(region)))
        elif isinstance(region, RoomOverlay):
            found.overlays.append((region.order, _html(region)))
        elif isinstance(region, RoomScript):
            found.scripts.append((0, region.url))
    for kind in ("buttons", "tabs", "overlays", "scripts"):
        ordered = sorted(getattr(found, kind), key=lambda pair: pair[0])
        setattr(found, kind, [value for _order, value in ordered])
    return found


def _add_to_room_pages(event):
    if event["renderer_name"] not in ROOM_PAGES:
        return
    request = event["request"]
    values = event.rendering_val or {}  # what the view returned
    role = ROOM_PAGES[event["renderer_name"]] or values.get("role")
    room = values.get("room") if role != "client" else None
    event["room_regions"] = room_regions(request, role, room)


def includeme(config):
    config.add_subscriber(_add_to_room_pages, BeforeRender)
