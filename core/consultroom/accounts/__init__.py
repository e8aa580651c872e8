"""Staff accounts: sessions, roles and permissions, and the staff pages."""
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from consultroom.accounts import hooks
from consultroom.accounts.security import SecurityPolicy, load_user


def _session_factory(settings):
    return SignedCookieSessionFactory(
        settings["session.secret"],
        cookie_name="consultroom",
        secure=settings.get("session.secure", "true").lower() == "true",
        httponly=True,
        samesite="Lax",
        # Idle timeout: a session unused this long is no longer accepted.
        timeout=int(settings.get("session.idle_minutes", 30)) * 60,
        reissue_time=60,
        serializer=JSONSerializer(),
    )


def includeme(config):
    settings = config.get_settings()
    config.set_session_factory(_session_factory(settings))
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(load_user, "user", reify=True)
    config.set_security_policy(SecurityPolicy())
    config.registry.plugins.register_core(hooks)
    config.include(".views")
