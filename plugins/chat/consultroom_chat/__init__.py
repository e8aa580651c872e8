"""Chat for Consultroom: messages in the consultation room (guests too) and,
where the organisation wants, in the waiting room; and continuous channels
between a client and a department's staff, with unread counts and access
control by department admins. Messages are encrypted at rest, every staff
read is audited, and they go with the consultation, the client or the days
the organisation chose. Where the organisation wants, a public chat widget
on its web site, answered live by the staff on duty.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_chat.hooks import (  # noqa: F401 (hook implementations, found on this module)
    UNREAD_TOTALS,
    consultroom_appointment_anonymised,
    consultroom_appointment_created,
    consultroom_client_erased,
    consultroom_department_delete_blockers,
    consultroom_list_badges,
    consultroom_menu_items,
    consultroom_room_ended,
    consultroom_room_regions,
    consultroom_template_slot,
    consultroom_waiting_list_annotations,
    consultroom_worker_jobs,
    unread_totals_cache,
)
from consultroom_chat.settings import OPTIONS

plugin = PluginInfo(
    name="Chat",
    description="Messages between clients and staff, in channels per client and department.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    settings=OPTIONS,
    migrations="consultroom_chat.migrations",
)


def includeme(config):
    config.registry[UNREAD_TOTALS] = unread_totals_cache(config.get_settings())
    config.add_translation_dirs("consultroom_chat:locale")
    config.include(".views")
    config.include(".client")
    config.include(".sockets")
    config.include(".widget")
    config.include(".visitor_sockets")
    config.include(".visitor_views")
    config.add_plugin_static_view("chat-static", "consultroom_chat:static")
