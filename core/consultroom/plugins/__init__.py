"""Plugins: discovery, per-organisation enablement and gating."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultroom.db.scope import all_organisations
from consultroom.plugins.models import PluginEnablement
from consultroom.plugins.registry import Plugin, PluginInfo, PluginRegistry  # noqa: F401
from consultroom.secretbox import ISecretBox, secret_box

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.registry import Registry
    from pyramid.request import Request

    from consultroom.plugins.registry import Plugin
    from consultroom.tenancy.models import Organisation


class PluginUnavailable(Exception):
    """The plugin is not installed, or is broken or incompatible."""


def enablement(
    dbsession: Session, organisation: Organisation, plugin_id: str
) -> PluginEnablement | None:
    return dbsession.scalar(
        select(PluginEnablement).where(
            PluginEnablement.organisation_id == organisation.id,
            PluginEnablement.plugin == plugin_id,
        )
    )


def set_enabled(
    plugins: PluginRegistry,
    dbsession: Session,
    organisation: Organisation,
    plugin_id: str,
    enabled: bool,
    settings: Mapping[str, object] | None = None,
    box: ISecretBox | None = None,
) -> PluginEnablement:
    """Switch a plugin on or off for one organisation, in the current
    transaction, calling the plugin's lifecycle hook when the state changes.

    ``plugins`` is the application's :class:`PluginRegistry`. Enabling
    stores every setting the plugin declares: ``settings`` (checked by its
    ``OptionSet``, which raises ``SettingsError``), else the stored value,
    else the default; the enable hook receives them so, its secrets opened.
    ``box`` (``secret_box(registry)``) seals and opens the secrets, and is
    needed where the plugin declares one.
    """
    plugin = plugins.get(plugin_id)
    if plugin is None:
        raise PluginUnavailable(f"no plugin {plugin_id!r} is installed")
    if (enabled or settings) and not plugin.usable:
        raise PluginUnavailable(f"plugin {plugin_id!r} {plugin.problem}")
    options = plugin.info.settings if plugin.info else None
    if options is not None and options.secret_keys() and box is None and (enabled or settings):
        raise TypeError(f"plugin {plugin_id!r} has secret settings: give the secret box")
    row = enablement(dbsession, organisation, plugin_id)
    filled = _filled_settings(plugin, row, settings, box) if enabled or settings else None
    if row is None:
        row = PluginEnablement(organisation_id=organisation.id, plugin=plugin_id)
        dbsession.add(row)
    if filled is not None:
        row.settings = filled
    if bool(row.enabled) == enabled:
        return row
    row.enabled = enabled
    dbsession.flush()
    if plugin.usable:
        if enabled:
            plugins.call_lifecycle(
                plugin_id,
                "consultroom_plugin_enabled",
                organisation=organisation,
                settings=_opened(plugin, row.settings, box),
                dbsession=dbsession,
            )
        else:
            plugins.call_lifecycle(
                plugin_id,
                "consultroom_plugin_disabled",
                organisation=organisation,
                dbsession=dbsession,
            )
    return row


def _filled_settings(
    plugin: Plugin,
    row: PluginEnablement | None,
    given: Mapping[str, object] | None,
    box: ISecretBox | None,
) -> dict[str, Any]:
    stored = row.settings if row is not None else None
    options = plugin.info.settings if plugin.info else None
    if options is None:
        if given:
            raise PluginUnavailable(f"plugin {plugin.id!r} has no settings")
        return dict(stored or {})
    return options.validate(given or {}, stored, box)


def _opened(
    plugin: Plugin, stored: Mapping[str, Any] | None, box: ISecretBox | None
) -> dict[str, Any]:
    """Every setting of ``plugin`` from ``stored``, defaults filled in, its
    secrets opened with ``box`` (which a plugin without secrets does without)."""
    options = plugin.info.settings if plugin.info else None
    if options is None:
        return dict(stored or {})
    values = options.values(stored)
    return options.opened(values, box) if box is not None else values


def settings_of(
    registry: Registry, dbsession: Session, organisation: Organisation, plugin_id: str
) -> dict[str, Any]:
    """The settings of plugin ``plugin_id`` for ``organisation``: each
    declared option's stored value or its default, secrets opened, for the
    code that uses them (never for a page or a log). Whether the plugin is
    enabled is not asked: its gated routes and hooks run only where it is.
    ``request.plugin_settings(plugin_id)`` is this for the request's
    organisation."""
    plugin = registry.plugins.get(plugin_id)
    if plugin is None or not plugin.usable:
        raise PluginUnavailable(f"no usable plugin {plugin_id!r} is installed")
    row = enablement(dbsession, organisation, plugin_id)
    return _opened(plugin, row.settings if row is not None else None, secret_box(registry))


def plugin_settings(request: Request, plugin_id: str) -> dict[str, Any]:
    return settings_of(request.registry, request.dbsession, request.organisation, plugin_id)


def seal_stored_secrets(
    plugins: PluginRegistry, dbsession: Session, box: ISecretBox
) -> list[tuple[int, str]]:
    """Encrypt with ``box`` the plugins' secret settings stored before they
    were: (organisation id, plugin id) of each enablement changed."""
    changed = []
    # Run once by `consultroom db upgrade` for the whole installation.
    with all_organisations(dbsession):
        rows = dbsession.scalars(select(PluginEnablement).order_by(PluginEnablement.id)).all()
    for row in rows:
        plugin = plugins.get(row.plugin)
        options = plugin.info.settings if plugin is not None and plugin.info else None
        sealed = options.sealed(row.settings or {}, box) if options is not None else None
        if sealed is not None:
            row.settings = sealed
            changed.append((row.organisation_id, row.plugin))
    return changed


def includeme(config: Configurator) -> None:
    config.include(".gating")
    config.add_request_method(plugin_settings, "plugin_settings")
