"""A plugin that answers for an error raised anywhere, outside any route."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Everywhere")


def everywhere(request):
    return {"mine": True}


def includeme(config):
    config.add_exception_view(everywhere, context=LookupError, renderer="json")
