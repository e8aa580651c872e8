"""The page of the plugin ``two``."""

from pyramid.view import view_config


@view_config(route_name="two.page", renderer="json")
def page(request):
    return {"plugin": "two"}
