"""Payments for Consultroom: organisation admins set rates and VAT rules
(by the client's country, private or business, with the EU reverse charge),
in ``Decimal`` and rounded once by the currency's rules.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_payments.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_menu_items,
)

plugin = PluginInfo(
    name="Payments",
    description="Rates and VAT for paid appointments.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_payments.migrations",
)


def includeme(config):
    config.add_translation_dirs("consultroom_payments:locale")
    config.include(".admin")
