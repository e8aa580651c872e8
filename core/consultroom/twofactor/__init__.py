"""Two-factor authentication with TOTP (authenticator apps) and recovery codes."""

from consultroom.twofactor import hooks


def includeme(config):
    config.include(".crypto")
    config.include(".login")
    config.include(".views")
    config.registry.plugins.register_core(hooks)
