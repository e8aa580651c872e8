"""A plugin with a misspelled hook implementation."""

from consultroom.hookspecs import hookimpl
from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Typo")


@hookimpl
def consultroom_menu_itmes(request):
    return []
