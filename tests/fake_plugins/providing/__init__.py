"""A plugin that declares a hook of its own (``PluginInfo.hookspecs``) for
other plugins to implement, as the payments plugin does for its providers."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Providing", hookspecs="fake_plugins.providing.hookspecs")
