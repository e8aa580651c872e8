"""Payments for Consultroom: organisation admins set rates and VAT rules
(by the client's country, private or business, with the EU reverse charge),
in ``Decimal`` and rounded once by the currency's rules; staff make an
appointment paid at a rate, and its client pays before the waiting room
(an admission step), through a provider (``consultroom_payments_providers``).

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_payments.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_admission_steps,
    consultroom_appointment_created,
    consultroom_appointment_form_fields,
    consultroom_list_badges,
    consultroom_mail_placeholder_values,
    consultroom_mail_placeholders,
    consultroom_menu_items,
    consultroom_payments_providers,
    consultroom_template_slot,
    consultroom_waiting_list_annotations,
)

plugin = PluginInfo(
    name="Payments",
    description="Rates and VAT for paid appointments.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_payments.migrations",
    hookspecs="consultroom_payments.hookspecs",
)


def includeme(config):
    config.add_translation_dirs("consultroom_payments:locale")
    config.include(".admin")
    config.include(".pay")
    config.include(".refunds")
    config.include(".listing")
