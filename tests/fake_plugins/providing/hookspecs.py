"""The ``providing`` test plugin's own hook."""

from consultroom.hookspecs import hookspec


@hookspec
def consultroom_providing_things(request):
    """Return the things you provide."""
