"""What a realtime page (waiting room, waiting list, consultation room) gets
from the server to open its websocket: the ``realtime`` template value
described in docs/realtime.md ("Template context")."""

from pyramid.csrf import get_csrf_token

ROOM_SETTINGS = (
    "video_fit",
    "screen_sharing",
    "file_sharing",
    "allow_resolution_change",
    "settings_first",
)


def room_settings(organisation):
    options = organisation.options
    return {key: options[key] for key in ROOM_SETTINGS}


def page_config(request, hello, room=None):
    org = request.organisation
    options = org.options
    return {
        "ws": "/ws",
        "hello": hello,
        "room": room.id if room else None,
        # Times arrive as UTC instants; pages show them in the organisation's zone.
        "timezone": org.timezone,
        "upload_url": request.route_path("room_files", room=room.id)
        if room and options["file_sharing"]
        else None,
        "waiting_url": "/waiting-room",
        "csrf": get_csrf_token(request) if hello["role"] == "staff" else None,
        "audio_alarm": options["audio_alarm"],
        "force_start": options["force_start"],
        "settings": room_settings(org),
    }
