"""A plugin that serves files from an absolute path without the gate."""

from pathlib import Path

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Raw static")


def includeme(config):
    config.add_static_view("raw", str(Path(__file__).parent))
