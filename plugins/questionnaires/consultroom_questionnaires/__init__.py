"""Questionnaires for Consultroom: intake forms that organisation and
department admins build (every field type, versions), that staff attach to
appointments (or the booking and walk-in widgets do) and clients fill in
from their link, the invitation, the portal or as a step before the waiting
room; answers encrypted at rest with a key per client, read by staff on the
client's and appointment's pages and in the room, every read audited.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_questionnaires import crypto
from consultroom_questionnaires.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_admission_steps,
    consultroom_appointment_anonymised,
    consultroom_appointment_created,
    consultroom_appointment_form_fields,
    consultroom_client_erased,
    consultroom_mail_placeholder_values,
    consultroom_mail_placeholders,
    consultroom_menu_items,
    consultroom_plugin_enabled,
    consultroom_room_regions,
    consultroom_template_slot,
    consultroom_waiting_list_annotations,
)

plugin = PluginInfo(
    name="Questionnaires",
    description="Intake questionnaires that clients fill in before their consultation.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_questionnaires.migrations",
)


def includeme(config):
    # A malformed key encryption key stops start-up, not a client's answers.
    crypto.key_encryption_keys(config.registry.settings)
    config.add_translation_dirs("consultroom_questionnaires:locale")
    config.include(".editor")
    config.include(".client")
    config.include(".answers")
