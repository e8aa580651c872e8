"""Two-factor authentication with TOTP (authenticator apps) and recovery codes."""


def includeme(config):
    config.include(".login")
    config.include(".views")
