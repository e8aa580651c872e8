"""The second plugin in the namespace package ``acme``: its view is in a
module under its package (``views``), which is as much the plugin's."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Acme two")


def includeme(config):
    config.add_plugin_route("two.page", "/acme-two")
    config.scan(".views")
