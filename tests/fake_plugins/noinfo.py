"""A module without a PluginInfo."""
