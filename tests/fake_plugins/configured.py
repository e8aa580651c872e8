"""A plugin with one setting of each option type, a secret and a rule
spanning two: its enable hook keeps the settings it was given, for the tests."""

from consultroom.hookspecs import hookimpl
from consultroom.plugins import PluginInfo
from consultroom.tenancy.options import (
    BoolOption,
    ChoiceOption,
    IntOption,
    OptionSet,
    TextOption,
)

# (organisation subdomain, settings) per call of the enable hook.
ENABLED = []


def _keep_or_delete(values):
    if values["keep"] and values["delete_after_days"]:
        return {"delete_after_days": "cannot both keep and delete"}
    return {}


plugin = PluginInfo(
    name="Configured",
    settings=OptionSet(
        (
            BoolOption("keep", "Keep", default=True),
            IntOption("delete_after_days", "Delete after (days)", minimum=0, maximum=365),
            ChoiceOption(
                "tone", "Tone", default="plain", choices=(("plain", "Plain"), ("warm", "Warm"))
            ),
            TextOption("site", "Site", url=True, max_length=40),
            TextOption("token", "Token", max_length=100, secret=True),
        ),
        rules=(_keep_or_delete,),
    ),
)


@hookimpl
def consultroom_plugin_enabled(organisation, settings, dbsession):
    ENABLED.append((organisation.subdomain, settings))
