"""Per-organisation gating of plugins: the single enforcement point.

* ``request.hooks`` calls tenant hooks with only the plugins the request's
  organisation has enabled.
* Plugin routes and static views carry the ``plugin`` route predicate, so
  they do not match (404) for an organisation without the plugin.
* After configuration, :func:`audit_plugin_views` refuses to start when a
  plugin's view is reachable through a route without that predicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from consultroom.db.cache import RowCache
from consultroom.plugins.models import PluginEnablement

if TYPE_CHECKING:
    # Pyramid has no type information: these are Any to mypy, named for the reader.
    from pyramid.config import Configurator
    from pyramid.interfaces import IRoute, IViewDeriverInfo
    from pyramid.request import Request

    from consultroom.plugins.registry import Plugin, PluginRegistry, TenantHooks

View = TypeVar("View")
# Every request asks; the answer changes when the console switches a plugin.
CACHE = "consultroom.enabled_plugins_cache"


class PluginEnabledPredicate:
    """Route predicate ``plugin="<id>"``: match only where <id> is enabled."""

    def __init__(self, plugin_id: str, config: Configurator) -> None:
        self.plugin_id = plugin_id

    def text(self) -> str:
        return f"plugin = {self.plugin_id}"

    phash = text

    def __call__(self, info: dict[str, Any], request: Request) -> bool:
        return self.plugin_id in request.enabled_plugin_ids


class PluginArchivePredicate(PluginEnabledPredicate):
    """Route predicate ``plugin_archive="<id>"``: match where <id> is
    enabled, and also, for GET and HEAD only, where the organisation enabled
    it once and has switched it off: the plugin's archive, pages that keep
    its past records (payments, receipts) readable."""

    def text(self) -> str:
        return f"plugin_archive = {self.plugin_id}"

    phash = text

    def __call__(self, info: dict[str, Any], request: Request) -> bool:
        if self.plugin_id in request.enabled_plugin_ids:
            return True
        return request.method in ("GET", "HEAD") and self.plugin_id in former_plugin_ids(request)


def former_plugin_ids(request: Request) -> frozenset[str]:
    """The usable plugins the request's organisation enabled once and has
    switched off (asked only by archive routes, so not cached)."""
    org = request.organisation
    if org is None:
        return frozenset()
    former = frozenset(
        request.dbsession.scalars(
            select(PluginEnablement.plugin).where(
                PluginEnablement.organisation_id == org.id, PluginEnablement.enabled.is_(False)
            )
        )
    )
    return _usable(request.registry, former)


def enabled_plugin_ids(request: Request) -> frozenset[str]:
    org = request.organisation
    if org is None:
        return frozenset()
    cached = cached_plugin_ids(request.registry, org.id)
    if cached is not None:
        return cached
    enabled = frozenset(
        request.dbsession.scalars(
            select(PluginEnablement.plugin).where(
                PluginEnablement.organisation_id == org.id, PluginEnablement.enabled
            )
        )
    )
    usable = _usable(request.registry, enabled)
    # Kept as returned: a socket asks for every frame of a plugin's type.
    request.registry[CACHE].put(org.id, usable)
    return usable


def cached_plugin_ids(registry: Any, organisation_id: int) -> frozenset[str] | None:
    """``enabled_plugin_ids`` of an organisation from the cache alone, or
    None when it holds nothing for it: no database, no transaction (a
    socket asks for every frame of a plugin's type)."""
    cache: RowCache[frozenset[str]] = registry[CACHE]
    return cache.get(organisation_id)


def _usable(registry: Any, enabled: frozenset[str]) -> frozenset[str]:
    plugins: PluginRegistry = registry.plugins
    return enabled & {p.id for p in plugins.usable()}


def tenant_hooks(request: Request) -> TenantHooks:
    plugins: PluginRegistry = request.registry.plugins
    return plugins.hooks_for(request.enabled_plugin_ids)


def _plugin_of(config: Configurator) -> Plugin:
    plugins: PluginRegistry = config.registry.plugins
    plugin = plugins.by_package(config.package_name)
    if plugin is None:
        raise ConfigurationError(
            f"{config.package_name} is not an installed plugin: only a plugin's"
            " includeme may add plugin routes"
        )
    return plugin


def add_plugin_route(
    config: Configurator, name: str, pattern: str, archive: bool = False, **kw: Any
) -> None:
    """Add a route that only matches for organisations that enabled the plugin
    whose ``includeme`` is running. With ``archive=True`` its GET and HEAD
    requests also match where the organisation switched the plugin off after
    using it (read-only pages of its past records; hooks do not run there)."""
    plugin_id = _plugin_of(config).id
    if archive:
        config.add_route(name, pattern, plugin_archive=plugin_id, **kw)
    else:
        config.add_route(name, pattern, plugin=plugin_id, **kw)


def add_plugin_static_view(config: Configurator, name: str, path: str, **kw: Any) -> None:
    """Serve a plugin's static files, gated like its routes."""
    config.add_static_view(name, path, plugin=_plugin_of(config).id, **kw)


def _route_plugin(route: IRoute) -> str | None:
    for predicate in route.predicates:
        if isinstance(predicate, PluginEnabledPredicate):
            return predicate.plugin_id
    return None


def _record_view_origin(view: View, info: IViewDeriverInfo) -> View:
    """View deriver: note which package registered each view (the package
    whose includeme or scan added it), for :func:`audit_plugin_views`."""
    info.registry.setdefault("view_origins", []).append(
        (info.package.__name__, info.options.get("route_name"), info.options.get("view"))
    )
    return view


def audit_plugin_views(config: Configurator) -> None:
    """Refuse plugin views that a non-plugin-gated route could reach.

    Covers every view a plugin package registered, however it did so
    (``view_config``, ``add_view``, ``add_static_view``, notfound views).
    """
    plugins: PluginRegistry = config.registry.plugins
    routes = {
        entry["introspectable"]["name"]: entry["introspectable"]["object"]
        for entry in config.registry.introspector.get_category("routes", [])
    }
    for package, route_name, view in config.registry.get("view_origins", []):
        plugin = plugins.by_package(package)
        if plugin is None:
            continue
        route = routes.get(route_name)
        if route is None or _route_plugin(route) != plugin.id:
            name = getattr(view, "__name__", type(view).__name__)
            raise ConfigurationError(
                f"plugin {plugin.id!r} registers view {name!r} on route"
                f" {route_name!r}, which is not gated by plugin={plugin.id!r}:"
                " use config.add_plugin_route"
            )
    _refuse_global_callbacks(config)


def _refuse_global_callbacks(config: Configurator) -> None:
    """Subscribers and tweens run for every organisation: not for plugins."""
    plugins: PluginRegistry = config.registry.plugins
    introspector = config.registry.introspector
    for category, key in (("subscribers", "subscriber"), ("tweens", "factory")):
        for entry in introspector.get_category(category, []):
            callback = entry["introspectable"][key]
            plugin = plugins.by_package(getattr(callback, "__module__", "") or "")
            if plugin is not None:
                raise ConfigurationError(
                    f"plugin {plugin.id!r} adds {category[:-1]} {entry['introspectable'].title!r},"
                    " which would run for every organisation: implement a hook instead"
                )


def includeme(config: Configurator) -> None:
    config.registry[CACHE] = RowCache.configured(
        config.get_settings(), {PluginEnablement.__tablename__}
    )
    config.add_route_predicate("plugin", PluginEnabledPredicate)
    config.add_route_predicate("plugin_archive", PluginArchivePredicate)
    config.add_request_method(enabled_plugin_ids, "enabled_plugin_ids", reify=True)
    config.add_request_method(tenant_hooks, "hooks", reify=True)
    config.add_directive("add_plugin_route", add_plugin_route)
    config.add_directive("add_plugin_static_view", add_plugin_static_view)
    config.add_view_deriver(_record_view_origin, "plugin_view_origin")
