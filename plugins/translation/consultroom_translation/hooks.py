"""The captions plugin's hook implementations: the room's cc button,
Captions tab and live region; captions on from a room's start where the
organisation wants them by default; forgetting a transcript with its
appointment's anonymisation."""

import json

from markupsafe import Markup
from sqlalchemy import delete

from consultroom.audit import record
from consultroom.hookspecs import (
    Command,
    RoomButton,
    RoomOverlay,
    RoomScript,
    RoomTab,
    fills_slots,
    hookimpl,
)
from consultroom_translation import service
from consultroom_translation.i18n import _
from consultroom_translation.models import TranscriptLine
from consultroom_translation.settings import BY_DEFAULT, languages_in, settings_of

STATIC = "/translation-static/"


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    request.dbsession.execute(
        delete(TranscriptLine).where(
            TranscriptLine.organisation_id == request.organisation.id,
            TranscriptLine.appointment_id.in_(appointment_ids),
        )
    )


def _options(languages, chosen):
    return Markup("").join(
        Markup('<option value="{0}"{1}>{0}</option>').format(
            code, Markup(" selected") if code == chosen else ""
        )
        for code in languages
    )


@hookimpl
def consultroom_room_regions(request, role, room):
    """The cc button, the Captions tab (languages) and the captions' live
    region, for everyone in the room, where the organisation has captions."""
    settings = settings_of(request.dbsession, request.organisation)
    if settings is None:
        return None
    t = request.localizer.translate
    offered = languages_in(settings["languages"])
    # The page's language: the client's own (their record) on a client's
    # page, the staff member's profile language on the staff's.
    mine = (request.locale_name or "")[:2]
    default = mine if mine in offered else offered[0]
    config = {"languages": offered, "default": default}
    overlay = Markup(
        '<div data-translation="{config}">'
        "<p data-translation-status hidden>{on}</p>"
        '<p class="sr-only" aria-live="polite" data-translation-live></p></div>'
    ).format(config=json.dumps(config), on=t(_("Captions on")))
    tab = Markup(
        "<label>{spoken} <select data-translation-spoken>{a}</select></label>"
        "<label>{caption} <select data-translation-caption>{b}</select></label>"
    ).format(
        spoken=t(_("I speak")),
        caption=t(_("Show captions in")),
        a=_options(offered, default),
        b=_options(offered, default),
    )
    return [
        RoomButton("translation.cc", t(_("Captions")), order=40),
        RoomTab("translation", t(_("Captions")), tab, order=40),
        RoomOverlay("translation", t(_("Captions")), overlay, order=40),
        RoomScript(STATIC + "captions.js"),
    ]


@hookimpl
@fills_slots("appointment")
def consultroom_template_slot(request, slot, context):
    """The kept transcript on the appointment's page (staff only)."""
    if slot != "appointment" or not request.has_permission("staff"):
        return None
    appointment = context["appointment"]
    lines = service.transcript(
        request.dbsession, request.registry, request.organisation.id, appointment.id
    )
    if not lines:
        return None
    # What was said in a consultation is client data: every read is audited.
    record(request, "translation.transcript_read", "appointment", appointment.id)
    t = request.localizer.translate
    items = Markup("").join(
        Markup("<li><time>{}</time> <strong>{}</strong>: {}</li>").format(
            line["at"].strftime("%H:%M:%S"), line["speaker"], line["text"]
        )
        for line in lines
    )
    return Markup(
        '<section class="translation-transcript" aria-labelledby="transcript-heading">'
        '<h2 id="transcript-heading">{}</h2><ol>{}</ol></section>'
    ).format(t(_("Transcript")), items)


@hookimpl
def consultroom_room_opened(request, room):
    """Captions on by default: on from the room's start."""
    settings = settings_of(request.dbsession, request.organisation)
    if settings is not None and settings["start"] == BY_DEFAULT:
        service.switch(request.dbsession, room, True)


def _run_worker(registry):
    """``consultroom captions``: the caption worker, imported when it runs:
    aiortc, av and numpy cost ~220 ms that every other command would pay."""
    from consultroom_translation.worker import run_worker

    run_worker(registry)


@hookimpl
def consultroom_commands():
    """``consultroom captions``: the caption worker."""
    return [Command("captions", "the caption worker: live captions for rooms", _run_worker)]
