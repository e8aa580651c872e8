"""The tenant hooks for a websocket's request.

``request.hooks`` is worked out once per request, at its first use; a socket
keeps its request for hours, while the console may switch a plugin on or
off for its organisation. A socket therefore asks anew for each action
(the answer is cached per organisation by the plugins' gating)."""

from consultroom.plugins.gating import enabled_plugin_ids


def current_hooks(request):
    """The hooks of the plugins ``request``'s organisation has enabled now."""
    return request.registry.plugins.hooks_for(enabled_plugin_ids(request))
