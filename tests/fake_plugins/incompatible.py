"""A plugin written for a future core."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Incompatible", requires_core=">=99")
