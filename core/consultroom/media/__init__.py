"""The network and hardware test: its pages and offer forwarding in the
application, and the media server (``consultroom media``, :mod:`.server`)
that echoes the browser's audio and video back."""

from consultroom.media import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
