"""A plugin whose own hook is not named after it."""

from consultroom.hookspecs import hookspec
from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Bad spec", hookspecs="fake_plugins.badspec")


@hookspec
def consultroom_menu_things(request):
    """Return menu things."""
