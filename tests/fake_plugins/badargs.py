"""A plugin whose hook asks for an argument the hook does not have."""

from consultroom.hookspecs import hookimpl
from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Bad arguments")


@hookimpl
def consultroom_menu_items(request, user):
    return []
