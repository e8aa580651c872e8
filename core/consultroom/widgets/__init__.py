"""The walk-in widget and the origins allowed to embed widgets."""

from consultroom.widgets import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
    config.include(".walkin")
