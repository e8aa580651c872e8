"""Plugins: discovery, per-organisation enablement and gating."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultroom.plugins.models import PluginEnablement
from consultroom.plugins.registry import Plugin, PluginInfo, PluginRegistry  # noqa: F401

if TYPE_CHECKING:
    from pyramid.config import Configurator

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
) -> PluginEnablement:
    """Switch a plugin on or off for one organisation, in the current
    transaction, calling the plugin's lifecycle hook when the state changes.

    ``plugins`` is the application's :class:`PluginRegistry`. Enabling
    stores every setting the plugin declares: ``settings`` (checked by its
    ``OptionSet``, which raises ``SettingsError``), else the stored value,
    else the default; the enable hook receives them so.
    """
    plugin = plugins.get(plugin_id)
    if plugin is None:
        raise PluginUnavailable(f"no plugin {plugin_id!r} is installed")
    if (enabled or settings) and not plugin.usable:
        raise PluginUnavailable(f"plugin {plugin_id!r} {plugin.problem}")
    row = enablement(dbsession, organisation, plugin_id)
    filled = _filled_settings(plugin, row, settings) if enabled or settings else None
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
                settings=dict(row.settings or {}),
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
    plugin: Plugin, row: PluginEnablement | None, given: Mapping[str, object] | None
) -> dict[str, Any]:
    stored = row.settings if row is not None else None
    options = plugin.info.settings if plugin.info else None
    if options is None:
        if given:
            raise PluginUnavailable(f"plugin {plugin.id!r} has no settings")
        return dict(stored or {})
    return options.validate(given or {}, stored)


def includeme(config: Configurator) -> None:
    config.include(".gating")
