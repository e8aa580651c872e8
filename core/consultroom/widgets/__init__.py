"""The public widgets, walk-in and booking, and the origins allowed to embed
them."""

from consultroom.widgets import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
    config.include(".walkin")
    config.include(".waiting_list")
    config.include(".booking")
