"""Practitioners' availability, the slots it gives, and the booking widget."""


def includeme(config):
    pass
