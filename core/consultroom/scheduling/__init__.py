"""Practitioners' availability and the slots it gives (the booking widget,
which offers them, is in widgets)."""

from consultroom.scheduling import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".availability")
