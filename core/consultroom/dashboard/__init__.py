"""The staff home page: a greeting and what enabled features put in the
``dashboard`` slot."""

from pyramid.view import view_config


@view_config(route_name="home", renderer="dashboard.html", permission="staff")
def home(request):
    return {}


def includeme(config):
    config.add_route("home", "/", site="organisation")
    config.scan(__name__)
