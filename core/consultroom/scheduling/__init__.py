"""Practitioners' availability and the slots it gives (the booking widget,
which offers them, is in widgets)."""


def includeme(config):
    config.include(".availability")
