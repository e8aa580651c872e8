"""One of two plugins in the namespace package ``acme`` (no __init__.py):
each is identified by its own package, not by ``acme``."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Acme one")


def page(request):
    return {"plugin": "one"}


def includeme(config):
    config.add_plugin_route("one.page", "/acme-one")
    config.add_view(page, route_name="one.page", renderer="json")
