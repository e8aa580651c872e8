"""A plugin that attaches a view to one of the core's routes."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Hijack")


def takeover(request):
    return {"hijacked": True}


def includeme(config):
    config.add_view(takeover, route_name="login", renderer="json", request_param="hijack")
