"""Practitioners' availability, the slots it gives, and the booking widget."""

from consultroom.scheduling import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".availability")
    config.include(".booking")
