"""A core hook module (as listed in consultroom.app.CORE_PLUGINS) with a
misspelled hook implementation."""

from consultroom.hookspecs import hookimpl


@hookimpl
def consultroom_menu_itmes(request):
    return []
