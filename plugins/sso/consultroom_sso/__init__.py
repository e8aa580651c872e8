"""Single sign-on for Consultroom: an organisation's staff log in with
Google, Microsoft, any OpenID Connect provider or a SAML 2.0 identity
provider, configured by its organisation admins ("Configure SSO"). Users
are matched by the provider's stable subject, created at their first login
where the connection says so,
and logged in through the core's ``start_staff_session`` (the same session,
audit trail and two-factor policy as a password); a connection may forbid
password logins.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from importlib.resources import files

from consultroom.plugins import PluginInfo
from consultroom_sso.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_login_method,
    consultroom_menu_items,
    consultroom_template_slot,
)
from consultroom_sso.jobs import consultroom_worker_jobs  # noqa: F401 (a hook implementation)

plugin = PluginInfo(
    name="Single sign-on",
    description="Staff log in with Google, Microsoft, OpenID Connect or SAML 2.0.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_sso.migrations",
)


def includeme(config):
    # The catalogues arrive with the first translation.
    if files("consultroom_sso").joinpath("locale").is_dir():
        config.add_translation_dirs("consultroom_sso:locale")
    config.include(".connections")
    config.include(".views")
    config.include(".saml_views")
    config.include(".staff")
