"""Clients, groups and external participants."""


def includeme(config):
    config.include(".views")
    config.include(".participants")
