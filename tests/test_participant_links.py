"""Extra participants of an appointment (family, home care, an interpreter):
each gets the invitation, reminder, change and cancellation e-mails through
the real SMTP capture, with their own link and .ics, in their own language;
one removed gets a cancellation, and only they. Their link /p/<token> opens
in the client's window, is another organisation's 404 (rate limited like
every guessed token), and shows the page its organisation's setting says."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from consultroom.appointments.models import AppointmentParticipant
from consultroom.appointments.service import cancel_appointment, update_appointment
from consultroom.clients.models import Participant
from consultroom.jobs import reminders

from clientmail_support import START, body_of, book, event_of, ics_of, load, org_request, path_on

LINK = re.compile(r"https?://\S+/[cp]/[\w-]+")


def _participant(dbsession, org, name, email, language="en"):
    participant = Participant(
        organisation_id=org.id, initials="", last_name=name, email=email, language=language
    )
    dbsession.add(participant)
    dbsession.flush()
    return participant


@pytest.fixture
def family(clinic_oost, dbsession):
    org = clinic_oost.org
    return [
        _participant(dbsession, org, "Daughter", "daughter@example.org"),
        _participant(dbsession, org, "Tolk", "tolk@example.org", language="nl"),
    ]


def _book_with(app, clinic, participants, **kw):
    with org_request(app, "clinic") as request:
        chosen = [request.dbsession.get(Participant, p.id) for p in participants]
    return book(
        app, "clinic", clinic.client.id, clinic.gp_practitioner.id, participants=chosen, **kw
    )


def _by_recipient(messages):
    return {m["To"]: m for m in messages}


def _tokens(app, appointment_id):
    with org_request(app, "clinic") as request:
        rows = request.dbsession.scalars(
            select(AppointmentParticipant).where(
                AppointmentParticipant.appointment_id == appointment_id
            )
        ).all()
        return {row.participant.email: row.token for row in rows}


def _link(message):
    [link] = set(LINK.findall(body_of(message)))
    return path_on(link, "clinic")


def test_each_participant_gets_their_own_invitation_link_and_ics(app, clinic_oost, family, smtp):
    appointment_id = _book_with(app, clinic_oost, family)
    mails = _by_recipient(smtp.messages)
    assert set(mails) == {"a.devries@example.org", "daughter@example.org", "tolk@example.org"}
    tokens = _tokens(app, appointment_id)
    with org_request(app, "clinic") as request:
        appointment = load(request, appointment_id)
        client_token, uid = appointment.token, appointment.ical_uid
    assert len(set(tokens.values()) | {client_token}) == 3  # three links, none shared
    assert all(len(token) >= 43 for token in tokens.values())

    daughter = mails["daughter@example.org"]
    assert _link(daughter) == f"/p/{tokens['daughter@example.org']}"
    body = body_of(daughter)
    assert "Dear Daughter," in body and "Dr. Bakker" in body
    assert "/portal/" not in body  # a participant has no portal
    event = event_of(daughter)
    assert str(event["UID"]) == uid and ics_of(daughter)["METHOD"] == "REQUEST"
    assert str(event["ATTENDEE"]) == "mailto:daughter@example.org"
    assert str(event["URL"]).endswith(f"/p/{tokens['daughter@example.org']}")

    # The interpreter reads Dutch.
    tolk = mails["tolk@example.org"]
    assert "Beste Tolk," in body_of(tolk)
    assert "5 maart 2030" in body_of(tolk)
    assert _link(tolk) == f"/p/{tokens['tolk@example.org']}"
    assert _link(mails["a.devries@example.org"]) == f"/c/{client_token}"


def test_a_client_not_notified_still_has_participants_invited(app, clinic_oost, family, smtp):
    _book_with(app, clinic_oost, family, notify=False)
    assert sorted(m["To"] for m in smtp.messages) == ["daughter@example.org", "tolk@example.org"]


def test_a_move_and_a_cancellation_reach_every_participant(app, clinic_oost, family, smtp):
    appointment_id = _book_with(app, clinic_oost, family)
    tokens = _tokens(app, appointment_id)
    smtp.messages.clear()
    with org_request(app, "clinic") as request:
        update_appointment(
            request, load(request, appointment_id), starts_at=START + timedelta(hours=2)
        )
    changes = _by_recipient(smtp.messages)
    assert len(smtp.messages) == 3
    daughter = changes["daughter@example.org"]
    assert daughter["Subject"].strip().startswith("Changed:")
    assert _link(daughter) == f"/p/{tokens['daughter@example.org']}"  # the same link
    assert event_of(daughter)["SEQUENCE"] == 1

    smtp.messages.clear()
    with org_request(app, "clinic") as request:
        cancel_appointment(request, load(request, appointment_id))
    cancellations = _by_recipient(smtp.messages)
    assert set(cancellations) == {
        "a.devries@example.org",
        "daughter@example.org",
        "tolk@example.org",
    }
    assert all(ics_of(m)["METHOD"] == "CANCEL" for m in smtp.messages)


def test_adding_and_removing_participants_tells_only_them(
    app, clinic_oost, family, smtp, dbsession
):
    daughter, tolk = family
    nurse = _participant(dbsession, clinic_oost.org, "Nurse", "nurse@example.org")
    appointment_id = _book_with(app, clinic_oost, [daughter, tolk])
    daughter_token = _tokens(app, appointment_id)["daughter@example.org"]
    smtp.messages.clear()
    with org_request(app, "clinic") as request:
        db = request.dbsession
        update_appointment(
            request,
            load(request, appointment_id),
            participants=[db.get(Participant, daughter.id), db.get(Participant, nurse.id)],
        )
    mails = _by_recipient(smtp.messages)
    assert set(mails) == {"nurse@example.org", "tolk@example.org"}  # not the client, not daughter
    assert mails["nurse@example.org"]["Subject"].strip().startswith("Your video consultation")
    removed = mails["tolk@example.org"]
    assert ics_of(removed)["METHOD"] == "CANCEL"
    assert not LINK.findall(body_of(removed))
    # The cancellation outranks the invitation in the removed one's calendar.
    assert event_of(removed)["SEQUENCE"] == 1
    tokens = _tokens(app, appointment_id)
    assert set(tokens) == {"daughter@example.org", "nurse@example.org"}
    assert tokens["daughter@example.org"] == daughter_token  # kept, not renewed


def test_the_reminder_reaches_the_client_and_every_participant(app, clinic_oost, family, smtp):
    _book_with(app, clinic_oost, family)
    smtp.messages.clear()
    # 08:00 in Amsterdam on the day: after the reminder hour, before the start.
    assert reminders.run(app.registry, "clinic", now=datetime(2030, 3, 5, 7, 0)) == 1
    mails = _by_recipient(smtp.messages)
    assert len(smtp.messages) == 3
    assert mails["daughter@example.org"]["Subject"].strip().startswith("Reminder:")
    assert "/p/" in _link(mails["daughter@example.org"])


def test_no_emails_option_sends_participants_nothing(app, clinic_oost, family, smtp, dbsession):
    clinic_oost.org.settings = {**(clinic_oost.org.settings or {}), "no_emails": True}
    dbsession.flush()
    _book_with(app, clinic_oost, family)
    assert smtp.messages == []


# -- the link's page -------------------------------------------------------------------


def _open(webtest, token, subdomain="clinic", at=START, **kw):
    with time_machine.travel(at, tick=False):
        return webtest(subdomain).get(f"/p/{token}", **kw)


def _when(page):
    return page.html.select_one("[data-when]").get_text(" ", strip=True)


def test_the_participant_link_opens_in_the_clients_window(app, clinic_oost, family, smtp, webtest):
    appointment_id = _book_with(app, clinic_oost, family)
    token = _tokens(app, appointment_id)["tolk@example.org"]
    page = _open(webtest, token)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # The interpreter's page is Dutch; the consultation has not started.
    assert '<html lang="nl" ' in page.text
    assert _when(page) == ("Het consult is nog niet begonnen. U gaat naar binnen zodra het begint.")
    assert '"role": "participant"' in page.text and token in page.text
    assert 'data-self-name="Tolk"' in page.text
    # Outside the window: the client's closed pages.
    early = _open(webtest, token, at=START - timedelta(hours=3))
    assert "data-when" not in early.text and token not in early.text
    with org_request(app, "clinic") as request:
        cancel_appointment(request, load(request, appointment_id))
    assert "realtime-config" not in _open(webtest, token).text


def test_a_participant_who_waits_sees_the_waiting_room(
    app, clinic_oost, family, smtp, webtest, dbsession
):
    clinic_oost.org.settings = {
        **(clinic_oost.org.settings or {}),
        "participants_join": "waiting",
    }
    dbsession.flush()
    appointment_id = _book_with(app, clinic_oost, family)
    token = _tokens(app, appointment_id)["daughter@example.org"]
    page = _open(webtest, token, at=START - timedelta(minutes=10))
    assert _when(page) == "You are early. Your appointment starts at 10:00."


def test_another_organisations_token_is_a_404_and_guesses_are_limited(
    app, clinic_oost, family, smtp, webtest, make_organisation, monkeypatch
):
    monkeypatch.setitem(app.registry.settings, "ratelimit.token_address.max", "3")
    make_organisation("other")
    appointment_id = _book_with(app, clinic_oost, family)
    token = _tokens(app, appointment_id)["daughter@example.org"]
    webtest("other").get(f"/p/{token}", status=404)
    guesser = webtest("clinic")
    for n in range(2):
        guesser.get(f"/p/{'x' * 42}{n}", status=404)
    page = guesser.get(f"/p/{'x' * 42}9", status=429)
    assert "Too many failed attempts" in page.text
    guesser.get(f"/p/{token}", status=429)  # locked out, even with a valid one
