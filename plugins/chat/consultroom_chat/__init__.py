"""Chat for Consultroom: continuous channels between a client and a
department's staff, with unread counts, access control by department
admins, encrypted storage and an audited read for every staff member.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_chat.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_appointment_created,
    consultroom_department_delete_blockers,
    consultroom_menu_items,
    consultroom_template_slot,
)

plugin = PluginInfo(
    name="Chat",
    description="Messages between clients and staff, in channels per client and department.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_chat.migrations",
)


def includeme(config):
    config.add_translation_dirs("consultroom_chat:locale")
    config.include(".views")
    config.include(".client")
