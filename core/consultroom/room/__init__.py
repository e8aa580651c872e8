"""The consultation room: the staff and guest pages, consultations that
start in it (``quick``: the quick consultation, an empty room), participants invited
during the call, and files shared in it; the websocket's roles and their
messages (``sockets``: signalling, call in, join, end), over the transport
of consultroom.realtime; the protocol in docs/realtime.md; and the regions
of the room that plugins fill (``regions``: toolbar buttons, side-panel tabs,
overlays); the room's extras (``extras``, ``backgrounds``, ``effects``:
background effects, the organisation's background images, the waiting
room's frames)."""


def includeme(config):
    config.include(".views")
    config.include(".quick")
    config.include(".sockets")
    config.include(".participant_link")
    config.include(".regions")
    config.include(".presence")
    config.include(".backgrounds")
    config.include(".effects")
