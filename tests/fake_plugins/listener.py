"""A plugin that listens to every request of every organisation."""

from pyramid.events import NewRequest

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Listener")


def on_request(event):
    event.request.environ["listener.saw"] = True


def includeme(config):
    config.add_subscriber(on_request, NewRequest)
