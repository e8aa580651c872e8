"""The waiting room: its texts (the "you are on time" text and service
messages, in several languages; ``texts``, pages in ``text_views``) and the
live waiting lists of staff (``live``; kept per process by ``hub``, told to
the sockets by ``sockets``)."""


def includeme(config):
    config.include(".views")
    config.include(".text_views")
    config.include(".page")
    config.include(".live_views")
    config.include(".hub")
