"""The captions plugin (plugins/translation): its settings per organisation
(captions on request by default, the languages offered, no transcript kept
unless asked), refused when malformed; and a kept transcript goes with its
appointment's anonymisation; kept, it is encrypted at rest and shown on
the appointment's page."""

from datetime import datetime, timedelta

import pytest
from consultroom_translation import service
from consultroom_translation.models import TranscriptLine
from consultroom_translation.settings import settings_of
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditEntry
from consultroom.jobs import anonymise
from consultroom.room.models import Room
from consultroom.secretbox import secret_box
from consultroom.tenancy.options import SettingsError

from clients_support import make_client


def test_defaults_are_on_request_english_and_no_transcript(
    make_organisation, enable_plugin, dbsession
):
    org = make_organisation("cc")
    assert settings_of(dbsession, org) is None
    enable_plugin(org, "translation")
    assert settings_of(dbsession, org) == {
        "start": "on_request",
        "languages": "en",
        "keep_transcript": False,
    }
    enable_plugin(org, "translation", enabled=False)
    assert settings_of(dbsession, org) is None


@pytest.mark.parametrize("languages", ["", "english", "en;nl", "en, n1"])
def test_languages_offered_must_be_two_letter_codes(make_organisation, enable_plugin, languages):
    org = make_organisation("cc")
    with pytest.raises(SettingsError):
        enable_plugin(org, "translation", settings={"languages": languages})


def test_languages_offered_are_kept_in_order(make_organisation, enable_plugin, dbsession):
    org = make_organisation("cc")
    enable_plugin(org, "translation", settings={"languages": "nl, en,de", "start": "by_default"})
    values = settings_of(dbsession, org)
    assert values["start"] == "by_default"
    assert values["languages"] == "nl, en,de"


def test_anonymising_an_appointment_deletes_its_transcript(
    app, make_organisation, make_user, enable_plugin, dbsession
):
    now = datetime(2031, 6, 1, 12)
    org = make_organisation("cc")
    enable_plugin(org, "translation", settings={"keep_transcript": True})
    org.settings = {"anonymise_after_days": 30}
    doctor = make_user(org, role=Role.practitioner, name="Dr. Smit")
    old, recent = (
        Appointment(
            organisation_id=org.id,
            client_id=make_client(dbsession, org, name).id,
            practitioner_id=doctor.id,
            starts_at=now - timedelta(days=days),
        )
        for name, days in (("Jansen", 40), ("Bakker", 2))
    )
    dbsession.add_all([old, recent])
    dbsession.flush()
    box = secret_box(app.registry)
    for appointment in (old, recent):
        dbsession.add(
            TranscriptLine(
                organisation_id=org.id,
                appointment_id=appointment.id,
                speaker="Dr. Smit",
                language="en",
                body=box.encrypt(b"how are you"),
            )
        )
    dbsession.flush()
    assert anonymise.run(app.registry, "cc", now) == 1
    dbsession.expire_all()
    left = dbsession.scalars(select(TranscriptLine.appointment_id)).all()
    assert left == [recent.id]


@pytest.mark.parametrize("kept", [True, False])
def test_a_kept_transcript_is_encrypted_and_on_the_appointment_page(
    app, make_organisation, make_user, enable_plugin, dbsession, webtest, login, kept
):
    org = make_organisation("cc")
    enable_plugin(org, "translation", settings={"keep_transcript": kept})
    doctor = make_user(org, role=Role.practitioner, name="Dr. Smit")
    appointment = Appointment(
        organisation_id=org.id,
        client_id=make_client(dbsession, org, "Jansen").id,
        practitioner_id=doctor.id,
        starts_at=datetime(2031, 6, 1, 12),
    )
    dbsession.add(appointment)
    dbsession.flush()
    room = Room(organisation_id=org.id, appointment_id=appointment.id)
    dbsession.add(room)
    dbsession.flush()
    service.keep(dbsession, app.registry, room, "A. Jansen", "en", "my knee hurts <a lot>")
    dbsession.flush()
    bodies = dbsession.scalars(select(TranscriptLine.body)).all()
    staff = webtest("cc")
    login(staff, doctor)
    page = staff.get(f"/appointments/{appointment.id}").text
    reads = dbsession.scalars(
        select(AuditEntry).where(AuditEntry.action == "translation.transcript_read")
    ).all()
    if kept:
        assert len(bodies) == 1 and b"knee" not in bodies[0]
        assert "my knee hurts &lt;a lot&gt;" in page
        assert "A. Jansen" in page
        assert [(r.user_id, r.object_id) for r in reads] == [(doctor.id, str(appointment.id))]
    else:
        assert bodies == []
        assert "Transcript" not in page
        assert reads == []
