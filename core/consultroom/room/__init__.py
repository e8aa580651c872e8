"""The consultation room: the staff and guest pages, participants invited
during the call, and files shared in it. The signalling is in
consultroom.realtime; the protocol in docs/realtime.md."""


def includeme(config):
    config.include(".views")
