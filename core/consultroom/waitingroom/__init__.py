"""The waiting room's texts: the "you are on time" text and service messages."""


def includeme(config):
    pass
