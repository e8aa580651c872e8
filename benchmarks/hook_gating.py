"""Cost of per-organisation hook gating.

Every tenant hook call goes through ``PluginRegistry.hooks_for(enabled)``,
which leaves out the plugins an organisation has not enabled. This measures
a gated call against the ungated pluggy call over the same plugins (the
baseline, in the same process), and the one-off cost of a new set of enabled
plugins (a cache miss).

    .venv/bin/python benchmarks/hook_gating.py [--plugins 20]
"""

import argparse
import timeit
import types

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.plugins.registry import Plugin, PluginInfo, PluginRegistry


def synthetic_plugin(n):
    module = types.ModuleType(f"bench_plugin_{n}")

    @hookimpl
    def consultroom_menu_items(request):
        return [MenuItem(f"Item {n}", f"/p{n}")]

    module.consultroom_menu_items = consultroom_menu_items
    module.plugin = PluginInfo(name=f"Bench {n}")
    return module


def build(count):
    registry = PluginRegistry()
    for n in range(count):
        module = synthetic_plugin(n)
        registry.plugins[f"p{n}"] = Plugin(
            id=f"p{n}", version="1", module=module, info=module.plugin
        )
        registry.pm.register(module, name=f"p{n}")
    return registry


def per_call(stmt, number):
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugins", type=int, default=20)
    args = parser.parse_args()
    registry = build(args.plugins)
    enabled = {f"p{n}" for n in range(0, args.plugins, 2)}
    gated = registry.hooks_for(enabled)

    baseline = per_call(lambda: registry.pm.hook.consultroom_menu_items(request=None), 20000)
    gated_us = per_call(lambda: gated.consultroom_menu_items(request=None), 20000)
    lookup_us = per_call(lambda: registry.hooks_for(enabled).consultroom_menu_items, 20000)

    def cold():
        registry._callers.clear()
        registry.hooks_for(enabled).consultroom_menu_items(request=None)

    cold_us = per_call(cold, 2000)
    print(f"plugins installed: {args.plugins}, enabled: {len(enabled)}")
    print(f"ungated pluggy call (baseline, all plugins): {baseline:8.2f} us")
    print(
        f"gated call (enabled plugins only):           {gated_us:8.2f} us"
        f"   ratio {gated_us / baseline:.2f}"
    )
    print(
        f"per-request lookup of the gated caller:      {lookup_us:8.2f} us"
        f"   ratio {lookup_us / baseline:.2f}"
    )
    print(
        f"first call for a new set of enabled plugins: {cold_us:8.2f} us"
        f"   ratio {cold_us / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
