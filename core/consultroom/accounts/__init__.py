"""Staff accounts: who is logged in, roles and permissions, and the staff
pages. The session itself is server-side (``consultroom.sessions``)."""

from pyramid.csrf import LegacySessionCSRFStoragePolicy

from consultroom.accounts.security import SecurityPolicy, load_user


def includeme(config):
    config.include("consultroom.ratelimit")
    config.include(".passwords")
    # The session's own get_csrf_token: it gives a visitor whose session
    # stores nothing a token without storing one (consultroom.sessions.store).
    config.set_csrf_storage_policy(LegacySessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(load_user, "user", reify=True)
    config.set_security_policy(SecurityPolicy())
    config.include(".login_page")
    config.include(".views")
