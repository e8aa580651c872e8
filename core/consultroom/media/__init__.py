"""The network and hardware test: its pages and offer forwarding in the
application, and the media server (``consultroom media``, :mod:`.server`)
that echoes the browser's audio and video back."""


def includeme(config):
    config.include(".views")
