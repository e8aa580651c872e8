"""The waiting room's texts: the organisation's "you are on time" text and
service messages, edited by administrators and shown to waiting clients."""
from consultroom.waitingroom import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
    config.include(".page")
