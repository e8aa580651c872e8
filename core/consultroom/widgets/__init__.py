"""The public widgets, walk-in and booking, and the origins allowed to embed
them (and the waiting room and room pages, widgets.embed)."""

from pyramid.events import ContextFound

from consultroom.widgets.embed import embeddable_pages


def includeme(config):
    config.add_subscriber(embeddable_pages, ContextFound)
    config.include(".views")
    config.include(".walkin")
    config.include(".live")
    config.include(".waiting_list")
    config.include(".booking")
