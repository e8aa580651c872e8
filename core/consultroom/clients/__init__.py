"""Clients, groups and external participants."""


def includeme(config):
    pass
