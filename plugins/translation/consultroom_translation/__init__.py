"""Live captions for Consultroom: speech recognition on the hosting
provider's own servers. A caption worker (``consultroom captions``) joins a
room as a receive-only WebRTC peer when captions are switched on, recognises
each participant's speech with a self-hosted engine (faster-whisper by
default), and the captions appear under the speaker's video, translated for
a listener who reads another language (``translators``). Where the
organisation keeps one, the transcript is encrypted at rest and goes with the
appointment's anonymisation.

Enabled per organisation like every plugin (docs/plugins.md).
"""

from consultroom.plugins import PluginInfo
from consultroom_translation.hooks import (  # noqa: F401 (hook implementations, found on this module)
    consultroom_appointment_anonymised,
    consultroom_commands,
    consultroom_room_opened,
    consultroom_room_regions,
    consultroom_template_slot,
)
from consultroom_translation.settings import OPTIONS

plugin = PluginInfo(
    name="Captions and translation",
    description="Live captions in the consultation room, recognised on this server and translated.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    settings=OPTIONS,
    migrations="consultroom_translation.migrations",
)


def includeme(config):
    config.add_translation_dirs("consultroom_translation:locale")
    config.include(".sockets")
    config.add_plugin_static_view("translation-static", "consultroom_translation:static")
