"""The walk-in widget and the origins allowed to embed widgets."""


def includeme(config):
    pass
