"""A plugin implementing the ``providing`` plugin's own hook; its id sorts
before that plugin's, so its hook is checked against a hookspec that a
plugin loaded after it declares."""

from consultroom.hookspecs import hookimpl
from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="A provider")


@hookimpl
def consultroom_providing_things(request):
    return ["a thing"]
