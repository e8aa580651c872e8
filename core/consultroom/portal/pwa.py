"""The portal as an installable web app, so "the client app" needs no app
store: a manifest per portal (it starts on the client's own portal), and a
service worker that shows an offline page when the network is gone. The
worker caches only that page and the theme's style: the portal's own pages
are personal and sent ``no-store``."""

import json

from pyramid.response import Response
from pyramid.view import view_config

from consultroom.portal.access import portal_client
from consultroom.web import service_worker
from consultroom.web.errors import not_found


@view_config(route_name="portal_manifest", request_method="GET")
def manifest(request):
    client = portal_client(request)
    if client is None:
        return not_found(request)
    org = request.organisation
    home = request.route_path("client_portal", token=client.portal_token)
    body = {
        "name": org.name,
        "short_name": org.name[:12],
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": org.primary_colour,
        "icons": [{"src": "/static/img/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    response = Response(json.dumps(body).encode(), content_type="application/manifest+json")
    response.cache_control = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@view_config(route_name="portal_worker", request_method="GET")
def worker(request):
    return service_worker("portal-sw.js")


@view_config(route_name="portal_offline", renderer="portal/offline.html", request_method="GET")
def offline(request):
    return {}


def includeme(config):
    config.add_route("portal_worker", "/portal/sw.js", site="organisation")
    config.add_route("portal_offline", "/portal/offline.html", site="organisation")
    config.add_route("portal_manifest", "/portal/{token}/manifest.webmanifest", site="organisation")
    config.scan(__name__)
