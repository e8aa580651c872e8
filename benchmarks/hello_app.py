"""The request benchmarks' baseline: a bare Pyramid "hello" application,
served like the real one (``pserve`` with the gevent-websocket runner), so
that the difference is what the application does per request.

    [app:main]
    use = call:hello_app:main
"""

from consultroom import patching


def hello(request):
    from pyramid.response import Response

    return Response("Hello", content_type="text/plain")


def main(global_config, **settings):
    # As consultroom.main: the runner refuses to serve an unpatched process.
    patching.patch()
    patching.ensure()
    from pyramid.config import Configurator

    with Configurator(settings=settings) as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
        return config.make_wsgi_app()
