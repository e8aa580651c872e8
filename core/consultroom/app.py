"""The application's assembly: one flat, ordered list of feature packages,
each with its own ``includeme``; installed plugins are included after them.

Importing this module imports Pyramid: a process that serves requests must
have patched the standard library for gevent first (``consultroom.main``
and the CLI do; see :mod:`consultroom.patching`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pyramid.config import Configurator
from pyramid.events import ApplicationCreated

from consultroom.plugins.gating import audit_plugin_views
from consultroom.plugins.registry import PluginRegistry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

FEATURES = [
    "consultroom.db",
    "consultroom.secretbox",
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
    config.include("consultroom.web.routing")
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
    config.add_subscriber(one_request_class, ApplicationCreated)
    config.commit()
    registered.check_pending()
    audit_plugin_views(config)
    return config


def one_request_class(event: Any) -> None:
    """Make every request of the application (``event.app``, the router)
    an instance of one class that carries the ``add_request_method``
    properties.

    Pyramid makes a class of its own for each request to carry them
    (``pyramid.util.InstancePropertyHelper.apply_properties``). Every
    interface lookup of the request (its route's interface, the view, the
    subscribers) then starts from a declaration no lookup has seen, whose
    caches are empty, and making the class costs too: measured on the kept
    login page, about an eighth of its time (360 -> 318 us a request,
    in-process). The classes are alike (the same base,
    the same descriptor objects), so the router makes its requests of one
    such class, made here as Pyramid makes each; reified values still live
    on each request. The registry's extensions are left whole: a request
    made elsewhere (``Request.blank`` and ``apply_request_extensions``)
    gets its properties as before."""
    router = event.app
    extensions = router.request_extensions
    if extensions is None or not extensions.descriptors:
        return
    base = router.request_factory
    attrs = {"__module__": base.__module__, **extensions.descriptors}
    shared = type(base.__name__, (base, object), attrs)
    for name in ("__implemented__", "__provides__"):  # as apply_properties does
        if hasattr(base, name):
            setattr(shared, name, getattr(base, name))
    router.request_factory = shared
    router.request_extensions = SimpleNamespace(methods=extensions.methods, descriptors={})
