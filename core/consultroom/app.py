"""The application's assembly: one flat, ordered list of feature packages,
each with its own ``includeme``; installed plugins are included after them.

Importing this module imports Pyramid: a process that serves requests must
have patched the standard library for gevent first (``consultroom.main``
and the CLI do; see :mod:`consultroom.patching`).
"""

from __future__ import annotations

import importlib
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
    "consultroom.reports",
    "consultroom.console",
    "consultroom.clients",
    "consultroom.clientmail",
    "consultroom.portal",
    "consultroom.appointments",
    "consultroom.scheduling",
    "consultroom.waitingroom",
    "consultroom.alerts",
    "consultroom.widgets",
    "consultroom.webpages",
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

# The core's own hook implementations, registered on the plugins' hook
# manager in this order (pluggy calls the last registered first), always
# enabled. A module that implements a hook belongs here, not in its feature's
# includeme: start-up then checks them all at once (``check_pending``).
CORE_PLUGINS = [
    "consultroom.tenancy.hooks",
    "consultroom.accounts.hooks",
    "consultroom.clients.hooks",
    "consultroom.clientmail.hooks",
    "consultroom.portal.hooks",
    "consultroom.reports.hooks",
    "consultroom.alerts.hooks",
    "consultroom.appointments.hooks",
    "consultroom.scheduling.hooks",
    "consultroom.waitingroom.hooks",
    "consultroom.waitingroom.live_hooks",
    "consultroom.waitingroom.shell_hooks",
    "consultroom.widgets.hooks",
    "consultroom.webpages.hooks",
    "consultroom.audittrail.hooks",
    "consultroom.twofactor.hooks",
    "consultroom.media.hooks",
    "consultroom.jobs.hooks",
    "consultroom.room.extras",
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
    allow_broken_plugins: bool = False,
) -> Configurator:
    """The configured (committed, audited) Configurator.

    ``plugins`` and ``dbmaker`` let tests supply a plugin registry and a
    session factory bound to their own connection. A broken plugin stops
    the web application (:class:`BrokenPluginError`); the command line
    passes ``allow_broken_plugins`` to list and disable it.
    """
    settings = {**DEFAULTS, **settings}
    config = Configurator(settings=settings)
    registered = plugins or PluginRegistry.discover(only=_plugin_filter(settings))
    if not allow_broken_plugins:
        registered.refuse_broken()
    config.registry.plugins = registered
    if dbmaker is not None:
        config.registry["dbmaker"] = dbmaker
    for feature in FEATURES:
        config.include(feature)
    for name in CORE_PLUGINS:
        registered.register_core(importlib.import_module(name))
    for plugin in registered.usable():
        if hasattr(plugin.module, "includeme"):
            config.include(plugin.module)
    config.commit()
    registered.check_pending()
    audit_plugin_views(config)
    return config
