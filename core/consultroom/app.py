"""The application's assembly: one flat, ordered list of feature packages,
each with its own ``includeme``; installed plugins are included after them.

Importing this module imports Pyramid: a process that serves requests must
have patched the standard library for gevent first (``consultroom.main``
and the CLI do; see :mod:`consultroom.patching`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pyramid.config import Configurator

from consultroom.plugins.gating import audit_plugin_views
from consultroom.plugins.registry import PluginRegistry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

FEATURES = [
    "consultroom.db",
    "consultroom.i18n",
    "consultroom.web",
    "consultroom.tenancy",
    "consultroom.plugins",
    "consultroom.accounts",
    "consultroom.mail",
    "consultroom.dashboard",
    "consultroom.console",
    "consultroom.clients",
    "consultroom.clientmail",
    "consultroom.appointments",
    "consultroom.scheduling",
    "consultroom.waitingroom",
    "consultroom.widgets",
    "consultroom.api",
    "consultroom.audit",
    "consultroom.audittrail",
    "consultroom.remotesupport",
    "consultroom.sessions",
    "consultroom.twofactor",
    "consultroom.realtime",
    "consultroom.room",
    "consultroom.media",
]

DEFAULTS = {
    "consultroom.base_domain": "localhost",
    "consultroom.theme": "default",
    "pyramid.default_locale_name": "en",
    "retry.attempts": "3",
}


def _plugin_filter(settings: Mapping[str, str]) -> set[str] | None:
    """The ``consultroom.plugins`` setting: ``*`` (all installed) or a list of ids."""
    value = settings.get("consultroom.plugins", "*").split()
    return None if value == ["*"] else set(value)


def make_config(
    settings: Mapping[str, str],
    plugins: PluginRegistry | None = None,
    dbmaker: sessionmaker[Session] | None = None,
) -> Configurator:
    """The configured (committed, audited) Configurator.

    ``plugins`` and ``dbmaker`` let tests supply a plugin registry and a
    session factory bound to their own connection.
    """
    settings = {**DEFAULTS, **settings}
    config = Configurator(settings=settings)
    config.registry.plugins = plugins or PluginRegistry.discover(only=_plugin_filter(settings))
    if dbmaker is not None:
        config.registry["dbmaker"] = dbmaker
    for feature in FEATURES:
        config.include(feature)
    registered: PluginRegistry = config.registry.plugins
    for plugin in registered.usable():
        if hasattr(plugin.module, "includeme"):
            config.include(plugin.module)
    config.commit()
    audit_plugin_views(config)
    return config
