"""Tenancy: organisations on subdomains, their settings and departments."""


def includeme(config):
    config.include(".hosts")
    config.include(".views")
