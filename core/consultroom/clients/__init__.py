"""Clients, groups and external participants."""

from consultroom.clients import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
    config.include(".participants")
