"""A plugin that adds a view to a route without the plugin predicate."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Ungated")


def sneaky(request):
    return {"ok": True}


def includeme(config):
    config.add_route("ungated.sneaky", "/sneaky")
    config.add_view(sneaky, route_name="ungated.sneaky", renderer="json")
