"""A plugin that asks the Content-Security-Policy for inline scripts."""

from consultroom.plugins import PluginInfo

plugin = PluginInfo(name="Bad CSP", csp={"script-src": ["'unsafe-inline'"]})
