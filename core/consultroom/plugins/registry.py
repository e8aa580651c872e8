"""Plugin discovery, validation and the tenant-scoped hook caller.

Plugins are found through the ``consultroom.plugins`` entry-point group: each
entry point names a module holding ``plugin = PluginInfo(...)``, its hook
implementations and, optionally, an ``includeme`` for its routes and views.
The entry point's name is the plugin's id.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from importlib.metadata import version as dist_version
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from consultroom import hookspecs
from consultroom.plugins.csp import csp_problem

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from consultroom.tenancy.options import OptionSet

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "consultroom.plugins"
# The pluggy name of a core module: "core:consultroom.clients.hooks".
CORE_PREFIX = "core:"
CORE_VERSION = dist_version("consultroom")


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin module declares about itself as ``plugin = PluginInfo(...)``.

    ``requires_core`` is a PEP 440 specifier (">=0.1,<0.2") for the core
    versions the plugin works with; ``settings`` is an
    :class:`consultroom.tenancy.options.OptionSet` of per-organisation settings;
    ``migrations`` an importable package holding the plugin's Alembic branch;
    ``csp`` the Content-Security-Policy sources the plugin's pages and slots
    need, by directive (``{"script-src": ["https://js.example.com"]}``),
    checked at load by :mod:`consultroom.plugins.csp` and added only to the
    responses of organisations that enabled it; ``hookspecs`` an importable
    module of hooks the plugin calls and other plugins implement (the
    payments plugin's providers), each named ``consultroom_<id>_...``.
    """

    name: str
    description: str = ""
    author: str = ""
    requires_core: str = ""
    settings: OptionSet | None = None
    migrations: str = ""
    csp: Mapping[str, Sequence[str]] = field(default_factory=dict)
    hookspecs: str = ""


@dataclass
class Plugin:
    id: str
    version: str
    module: ModuleType | None = None
    info: PluginInfo | None = None
    problem: str = ""  # why it cannot be used, in one line; empty when usable
    # Written for another core: left out, but not a fault of its code.
    incompatible: bool = False

    @property
    def usable(self) -> bool:
        return not self.problem

    @property
    def broken(self) -> bool:
        """Unusable through a fault of its own (an import error, no
        ``PluginInfo``, a hook the contract does not have...): the web
        application refuses to start while it is installed."""
        return bool(self.problem) and not self.incompatible

    @property
    def package(self) -> str | None:
        """The plugin's identity among modules: the package of its entry
        point's module (that module itself when it is a package). Everything
        under it is the plugin's; a namespace such as ``acme`` shared with
        other distributions is not."""
        if self.module is None:
            return None
        name = self.module.__name__
        if hasattr(self.module, "__path__"):  # a package, namespace packages too
            return name
        return name.rpartition(".")[0] or name

    def owns(self, module_name: str) -> bool:
        """Whether ``module_name`` is the plugin's package or inside it."""
        package = self.package
        return package is not None and (
            module_name == package or module_name.startswith(package + ".")
        )

    @property
    def name(self) -> str:
        return self.info.name if self.info else self.id


class PluginHookError(Exception):
    """A core module implements a hook that the contract does not declare,
    or with an argument its hookspec does not have."""


class BrokenPluginError(Exception):
    """A broken plugin is installed: the web application does not start."""


@dataclass
class PluginRegistry:
    """Every installed plugin, usable or not, and the hook manager."""

    plugins: dict[str, Plugin] = field(default_factory=dict)
    pm: pluggy.PluginManager = field(init=False)  # made by __post_init__
    _callers: dict[frozenset[str], TenantHooks] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._specs: dict[str, Any] = {
            name: getattr(hookspecs, name)
            for name in dir(hookspecs)
            if name.startswith(hookspecs.PROJECT + "_")
        }

    # -- discovery -------------------------------------------------------

    @classmethod
    def discover(
        cls, eps: Iterable[EntryPoint] | None = None, only: Collection[str] | None = None
    ) -> Self:
        """Load the plugins named by entry points (installed ones by default).

        ``only``, when given, is the set of plugin ids to consider: the
        ``consultroom.plugins`` setting, for installations that hide some
        installed distributions.
        """
        registry = cls()
        if eps is None:
            eps = entry_points(group=ENTRY_POINT_GROUP)
        loaded = [
            registry._load(ep)
            for ep in sorted(eps, key=lambda ep: ep.name)
            if only is None or ep.name in only
        ]
        # Every plugin's own hookspecs first, so that a plugin implementing
        # another's hook is checked against it whatever their order.
        for plugin in loaded:
            registry._add_hookspecs(plugin)
        for plugin in loaded:
            registry._register(plugin)
        return registry

    def _load(self, ep: EntryPoint) -> Plugin:
        version = ep.dist.version if ep.dist else "unknown"
        plugin = Plugin(id=ep.name, version=version)
        self.plugins[ep.name] = plugin
        try:
            plugin.module = ep.load()
        except Exception as exc:  # any import error makes the plugin broken
            plugin.problem = _one_line(f"cannot be imported: {type(exc).__name__}: {exc}")
            return plugin
        info = getattr(plugin.module, "plugin", None)
        if not isinstance(info, PluginInfo):
            plugin.problem = "its module does not define `plugin = PluginInfo(...)`"
        else:
            plugin.info = info
            plugin.problem = _compatibility_problem(info.requires_core) or csp_problem(info.csp)
            plugin.incompatible = bool(_compatibility_problem(info.requires_core))
        return plugin

    def _add_hookspecs(self, plugin: Plugin) -> None:
        """Declare the hooks of a plugin's ``hookspecs`` module, named
        ``consultroom_<id>_...``; a module that cannot be imported or a hook
        named otherwise makes the plugin broken."""
        if plugin.problem or plugin.info is None or not plugin.info.hookspecs:
            return
        try:
            module = importlib.import_module(plugin.info.hookspecs)
        except Exception as exc:  # any import error makes the plugin broken
            plugin.problem = _one_line(
                f"its hookspecs cannot be imported: {type(exc).__name__}: {exc}"
            )
            return
        prefix = f"{hookspecs.PROJECT}_{plugin.id}_"
        names = [n for n in dir(module) if self.pm.parse_hookspec_opts(module, n) is not None]
        wrong = [n for n in names if not n.startswith(prefix)]
        if wrong:
            plugin.problem = f"declares hook {wrong[0]!r}: a plugin's hooks start with {prefix!r}"
            return
        self.pm.add_hookspecs(module)
        self._specs.update((name, getattr(module, name)) for name in names)

    def _register(self, plugin: Plugin) -> None:
        if not plugin.problem:
            plugin.problem = self._hook_problem(plugin.module) or self._package_problem(plugin)
        if not plugin.problem:
            try:
                self.pm.register(plugin.module, name=plugin.id)
            except pluggy.PluginValidationError as exc:  # e.g. a wrapper that does not yield
                plugin.problem = _one_line(str(exc))
        if plugin.problem:
            log.error("plugin %s %s", plugin.id, plugin.problem)

    def _hook_problem(self, module: object) -> str:
        """What is wrong with the hook implementations of ``module``, in one
        line with the nearest correct name; empty when nothing is."""
        for attr in dir(module):
            if self.pm.parse_hookimpl_opts(module, attr) is None:
                continue
            if attr not in self._specs:
                close = difflib.get_close_matches(attr, self._specs, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return f"implements unknown hook {attr!r}{hint}"
            spec_args = inspect.signature(self._specs[attr]).parameters
            for name, param in inspect.signature(getattr(module, attr)).parameters.items():
                if name not in spec_args and param.default is param.empty:
                    return (
                        f"implements {attr!r} with argument {name!r}, which the hook does"
                        f" not have (it has: {', '.join(spec_args)})"
                    )
        return ""

    def _package_problem(self, plugin: Plugin) -> str:
        for other in self.usable():
            registered = other.module is not None and self.pm.is_registered(other.module)
            if other is not plugin and registered and other.package == plugin.package:
                return (
                    f"has the same package {plugin.package!r} as plugin {other.id!r}:"
                    " a plugin's entry point must name a package of its own"
                )
        return ""

    def register_core(self, module: ModuleType) -> None:
        """Register one of the core's own hook modules: always enabled.

        An argument its hookspec does not have stops start-up here, a hook
        the contract does not have in :meth:`check_pending`.
        """
        try:
            self.pm.register(module, name=CORE_PREFIX + module.__name__)
        except pluggy.PluginValidationError:
            raise PluginHookError(
                f"core module {module.__name__!r} {self._hook_problem(module)}"
            ) from None

    def check_pending(self) -> None:
        """Refuse hook implementations that no hookspec declares (pluggy's
        ``check_pending``), with the module, the hook and the nearest
        correct name in one line. Run once every core module and plugin is
        registered."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            who = (
                f"core module {name.removeprefix(CORE_PREFIX)!r}"
                if name.startswith(CORE_PREFIX)
                else f"plugin {name!r}"
            )
            problem = self._hook_problem(exc.plugin) or _one_line(str(exc))
            raise PluginHookError(f"{who} {problem}") from None

    def refuse_broken(self) -> None:
        """Stop the web application while a broken plugin is installed,
        naming each and its fault (the command line lists them instead)."""
        broken = [p for p in self.plugins.values() if p.broken]
        if broken:
            raise BrokenPluginError(
                "; ".join(f"plugin {p.id!r} is broken: {p.problem}" for p in broken)
                + " (fix or uninstall it, or leave it out of the consultroom.plugins setting)"
            )

    # -- lookups -----------------------------------------------------------

    def get(self, plugin_id: str) -> Plugin | None:
        return self.plugins.get(plugin_id)

    def usable(self) -> list[Plugin]:
        return [p for p in self.plugins.values() if p.usable]

    def by_package(self, package_name: str) -> Plugin | None:
        """The usable plugin whose package holds the module or package
        ``package_name``; the innermost one when packages nest."""
        owners = [p for p in self.usable() if p.owns(package_name)]
        return max(owners, key=lambda p: len(p.package or ""), default=None)

    # -- calling hooks -------------------------------------------------------

    def hooks_for(self, enabled_ids: Iterable[str]) -> TenantHooks:
        """The hook caller for an organisation that enabled ``enabled_ids``.

        This is the one place where tenant hooks are called: plugins that are
        not enabled are left out of every hook.
        """
        key = frozenset(enabled_ids)
        caller = self._callers.get(key)
        if caller is None:
            left_out = [p.module for p in self.usable() if p.id not in key]
            caller = self._callers[key] = TenantHooks(self.pm, left_out)
        return caller

    def call_lifecycle(self, plugin_id: str, hook: str, **kwargs: Any) -> list[object]:
        """Call a lifecycle hook on one plugin only."""
        others: list[object] = [p.module for p in self.usable() if p.id != plugin_id]
        others += [p for name, p in self.pm.list_name_plugin() if name.startswith(CORE_PREFIX)]
        results: list[object] = self.pm.subset_hook_caller(hook, others)(**kwargs)
        return results


class TenantHooks:
    """Hook callers restricted to the plugins of one set of enabled ids."""

    def __init__(self, pm: pluggy.PluginManager, left_out: Iterable[object]) -> None:
        self._pm = pm
        self._left_out = left_out
        self._cache: dict[str, pluggy.HookCaller] = {}
        self._slot_fillers: dict[str, pluggy.HookCaller | None] = {}

    def __getattr__(self, name: str) -> pluggy.HookCaller:
        if not name.startswith(hookspecs.PROJECT + "_"):
            raise AttributeError(name)
        caller = self._cache.get(name)
        if caller is None:
            caller = self._cache[name] = self._pm.subset_hook_caller(name, self._left_out)
        return caller

    def slot_filler(self, slot: str) -> pluggy.HookCaller | None:
        """``consultroom_template_slot`` for the implementations that may
        fill ``slot`` (those that declared it with ``hookspecs.fills_slots``
        and those that declared nothing); None when there are none."""
        if slot not in self._slot_fillers:
            name = "consultroom_template_slot"
            elsewhere = [
                impl.plugin
                for impl in getattr(self, name).get_hookimpls()
                if slot not in getattr(impl.function, hookspecs.SLOTS, (slot,))
            ]
            caller = self._pm.subset_hook_caller(name, [*self._left_out, *elsewhere])
            self._slot_fillers[slot] = caller if caller.get_hookimpls() else None
        return self._slot_fillers[slot]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _compatibility_problem(requires_core: str) -> str:
    if not requires_core:
        return ""
    try:
        spec = SpecifierSet(requires_core)
    except InvalidSpecifier:
        return f"declares an invalid core requirement {requires_core!r}"
    if not spec.contains(Version(CORE_VERSION), prereleases=True):
        return f"requires core {requires_core}, this is {CORE_VERSION}"
    return ""
