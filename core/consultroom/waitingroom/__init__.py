"""The waiting room: its texts (the organisation's "you are on time" text and
service messages) and the live waiting lists of staff (``live``; kept per
process by ``hub``, told to the sockets by ``sockets``)."""


def includeme(config):
    config.include(".views")
    config.include(".page")
    config.include(".live_views")
    config.include(".hub")
