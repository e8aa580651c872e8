"""Tenancy: organisations on subdomains, their settings and departments."""

from consultroom.tenancy import hooks


def includeme(config):
    config.include(".hosts")
    config.registry.plugins.register_core(hooks)
    config.include(".views")
