"""Client e-mail: a booking's invitation reaches a real SMTP server with a
working link and a valid .ics; changes and cancellations update the same
calendar event; language and template-set selection; no e-mail when the
organisation says so; a refused address is reported to the right admin."""

import re
import smtplib
from datetime import UTC, timedelta

import consultroom_hello
import pytest
import time_machine
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.appointments.service import cancel_appointment, update_appointment
from consultroom.clientmail import send_client_mail
from consultroom.clientmail.compose import compose
from consultroom.clientmail.models import Template, TemplateSet
from consultroom.mail import mail_outbox, refusal
from consultroom.mail.models import OutboxMessage
from consultroom.mail.transports import SMTPTransport
from consultroom.testing import free_port

from clientmail_support import START, body_of, book, event_of, ics_of, load, org_request, path_on

LINK = re.compile(r"https?://\S+/c/[\w-]+")
PORTAL = re.compile(r"https?://\S+/portal/[\w-]+")


def _rows(dbsession, appointment_id):
    return dbsession.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.ref == f"appointment:{appointment_id}")
        .order_by(OutboxMessage.id)
    ).all()


# -- the invitation --------------------------------------------------------------


def test_booking_sends_an_invitation_with_link_and_ics(app, clinic_oost, smtp, dbsession):
    appointment_id = book(
        app,
        "clinic",
        clinic_oost.client.id,
        clinic_oost.gp_practitioner.id,
        message="Please have your medication list at hand.",
    )
    [message] = smtp.messages
    assert message["To"] == "a.devries@example.org"
    assert message["Subject"] == "Your video consultation on Tuesday, 5 March 2030 at 10:00"
    body = body_of(message)
    assert "Dear A. de Vries," in body
    assert "Dr. Bakker" in body and "(20 minutes)" in body and "Clinic Oost" in body
    assert "Please have your medication list at hand." in body
    assert "from 09:00" in body  # the link admits one hour early, in local time
    assert "*|" not in body

    with org_request(app, "clinic") as request:
        appointment = load(request, appointment_id)
        token, uid = appointment.token, appointment.ical_uid
    [link] = LINK.findall(body)
    assert path_on(link, "clinic") == f"/c/{token}"
    assert len(token) >= 43  # 256 random bits, never the id

    calendar = ics_of(message)
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(message)
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == START.replace(tzinfo=UTC)
    assert event.decoded("DTEND") == (START + timedelta(minutes=20)).replace(tzinfo=UTC)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Clinic Oost" in str(event["SUMMARY"])
    assert str(event["URL"]) == link and link in str(event["DESCRIPTION"])
    assert str(event["ATTENDEE"]) == "mailto:a.devries@example.org"
    assert str(event["ORGANIZER"]).startswith("mailto:")

    # The outbox row says what it is about, for whoever must hear of a refusal.
    [row] = _rows(dbsession, appointment_id)
    assert row.status == "sent"


def test_the_invitation_link_opens_the_appointment_page(app, clinic_oost, smtp, webtest):
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [link] = LINK.findall(body_of(smtp.messages[0]))
    mapper = app.registry.queryUtility(IRoutesMapper)
    if not any(route.pattern.startswith("/c/") for route in mapper.get_routes()):
        pytest.xfail("the client's /c/<token> page is not built yet (appointments feature)")
    page = webtest("clinic").get(path_on(link, "clinic"))
    assert page.status_int == 200
    # The link is not valid on another organisation's site.
    webtest("other").get(path_on(link, "clinic"), status=404)


def test_the_portal_link_lists_upcoming_appointments(
    app, clinic_oost, smtp, webtest, make_organisation, open_portal
):
    first = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    book(
        app,
        "clinic",
        clinic_oost.client.id,
        clinic_oost.physio_practitioner.id,
        starts_at=START + timedelta(days=1),
    )
    with org_request(app, "clinic") as request:
        cancel_appointment(request, load(request, first))
        tokens = [load(request, first).token]
    [portal] = PORTAL.findall(body_of(smtp.messages[0]))
    browser = webtest("clinic")
    open_portal(browser, clinic_oost.client)
    page = browser.get(path_on(portal, "clinic"))
    assert "Wednesday, 6 March 2030" in page.text and "Dr. Smit" in page.text
    assert "Tuesday, 5 March 2030" not in page.text  # cancelled
    assert f"/c/{tokens[0]}" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    # The token means nothing elsewhere, and a made-up one is not found.
    make_organisation("other")
    webtest("other").get(path_on(portal, "clinic"), status=404)
    webtest("clinic").get("/portal/" + "x" * 43, status=404)


def test_the_portal_speaks_the_clients_language(
    app, clinic_oost, smtp, webtest, dbsession, open_portal
):
    clinic_oost.client.language = "nl"
    dbsession.flush()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [portal] = PORTAL.findall(body_of(smtp.messages[0]))
    browser = webtest("clinic")
    open_portal(browser, clinic_oost.client)
    page = browser.get(path_on(portal, "clinic"))
    assert '<html lang="nl" ' in page.text and "dinsdag 5 maart 2030" in page.text
    # An explicit choice of language wins.
    page = browser.get(path_on(portal, "clinic") + "?_LOCALE_=de")
    assert "Dienstag, 5. März 2030" in page.text


# -- changes and cancellation --------------------------------------------------------


def test_change_and_cancellation_keep_the_uid_with_a_higher_sequence(app, clinic_oost, smtp):
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    with org_request(app, "clinic") as request:
        update_appointment(
            request, load(request, appointment_id), starts_at=START + timedelta(hours=2)
        )
    with org_request(app, "clinic") as request:
        cancel_appointment(request, load(request, appointment_id))
    invitation, change, cancellation = smtp.messages
    events = [event_of(m) for m in smtp.messages]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]

    assert ics_of(change)["METHOD"] == "REQUEST"
    assert events[1].decoded("DTSTART") == (START + timedelta(hours=2)).replace(tzinfo=UTC)
    assert (
        change["Subject"].strip()
        == "Changed: your video consultation is now on Tuesday, 5 March 2030 at 12:00"
    )

    assert ics_of(cancellation)["METHOD"] == "CANCEL"
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert cancellation["Subject"].strip().startswith("Cancelled:")
    assert not LINK.findall(body_of(cancellation))


def test_a_change_of_message_only_sends_nothing(app, clinic_oost, smtp):
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    with org_request(app, "clinic") as request:
        update_appointment(request, load(request, appointment_id), message="New text")
    assert len(smtp.messages) == 1


def test_reminder_is_sent_as_a_calendar_request(app, clinic_oost, smtp):
    appointment_id = book(
        app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id, notify=False
    )
    with org_request(app, "clinic") as request:
        send_client_mail(request, load(request, appointment_id), "reminder")
    [message] = smtp.messages
    assert message["Subject"] == "Reminder: your video consultation today at 10:00"
    assert ics_of(message)["METHOD"] == "REQUEST"


# -- language and template sets --------------------------------------------------------


def _template_set(dbsession, org, name, language, default=False, departments=(), kinds=None):
    template_set = TemplateSet(
        organisation_id=org.id,
        name=name,
        language=language,
        is_default=default,
        departments=list(departments),
    )
    template_set.templates = [
        Template(
            kind=kind,
            subject=f"{name} {kind} *|date|*",
            body=f"{name}: *|client_name|* *|time|* *|consult_deeplink|*",
        )
        for kind in (kinds or ("invitation", "reminder", "change", "cancellation"))
    ]
    dbsession.add(template_set)
    dbsession.flush()
    return template_set


def test_the_clients_language_picks_texts_and_date_format(app, clinic_oost, smtp, dbsession):
    clinic_oost.client.language = "nl"
    dbsession.flush()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [message] = smtp.messages
    assert "dinsdag 5 maart 2030" in message["Subject"] and "10:00" in message["Subject"]
    assert "dinsdag 5 maart 2030" in body_of(message)


def test_template_set_of_the_department_then_default_then_built_in(app, clinic_oost, dbsession):
    _template_set(dbsession, clinic_oost.org, "Org default", "en", default=True)
    _template_set(dbsession, clinic_oost.org, "GP set", "en", departments=[clinic_oost.gp])
    _template_set(dbsession, clinic_oost.org, "Dutch GP", "nl", departments=[clinic_oost.gp])
    gp = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id, notify=False)
    physio = book(
        app,
        "clinic",
        clinic_oost.client.id,
        clinic_oost.physio_practitioner.id,
        notify=False,
        starts_at=START + timedelta(days=1),
    )
    with org_request(app, "clinic") as request:
        # The practitioner's department decides when the appointment has none.
        mail = compose(request, load(request, gp), "invitation")
        assert mail.subject == "GP set invitation Tuesday, 5 March 2030"
        assert mail.body.startswith("GP set: A. de Vries 10:00 http://clinic.")
        # No set for Physio: the organisation's default in the client's language.
        mail = compose(request, load(request, physio), "reminder")
        assert mail.subject == "Org default reminder Wednesday, 6 March 2030"
    clinic_oost.client.language = "de"
    dbsession.flush()
    with org_request(app, "clinic") as request:
        # No German set at all: the built-in texts, in German date format.
        mail = compose(request, load(request, physio), "invitation")
        assert "Donnerstag" not in mail.subject and "Mittwoch, 6. März 2030" in mail.subject
        assert "*|" not in mail.body and "Dr. Smit" in mail.body
    clinic_oost.client.language = "nl"
    dbsession.flush()
    with org_request(app, "clinic") as request:
        assert compose(request, load(request, gp), "change").subject.startswith("Dutch GP change")


def test_the_appointments_own_department_wins(app, clinic_oost, dbsession):
    clinic_oost.org.settings = {"strict_departments": True}
    _template_set(dbsession, clinic_oost.org, "Physio set", "en", departments=[clinic_oost.physio])
    appointment_id = book(
        app, "clinic", clinic_oost.client.id, department_id=clinic_oost.physio.id, notify=False
    )
    with org_request(app, "clinic") as request:
        mail = compose(request, load(request, appointment_id), "invitation")
        assert mail.subject.startswith("Physio set invitation")
        # A department appointment is "with" the department.
        assert mail.values["practitioner_name"] == "Physio"


def test_a_set_missing_a_kind_falls_back_to_the_built_in_text(app, clinic_oost, dbsession):
    _template_set(dbsession, clinic_oost.org, "Partial", "en", default=True, kinds=("invitation",))
    appointment_id = book(
        app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id, notify=False
    )
    with org_request(app, "clinic") as request:
        assert compose(request, load(request, appointment_id), "reminder").subject.startswith(
            "Reminder:"
        )


def test_the_personal_message_is_not_read_as_placeholders(app, clinic_oost, smtp):
    book(
        app,
        "clinic",
        clinic_oost.client.id,
        clinic_oost.gp_practitioner.id,
        message="Literally *|time|* and *|unknown|*",
    )
    assert "Literally *|time|* and *|unknown|*" in body_of(smtp.messages[0])


# -- when nothing is sent ----------------------------------------------------------------


def test_no_emails_option_sends_nothing(app, clinic_oost, smtp, dbsession):
    clinic_oost.org.settings = {"no_emails": True}
    dbsession.flush()
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    with org_request(app, "clinic") as request:
        appointment = load(request, appointment_id)
        assert send_client_mail(request, appointment, "reminder") is None
        cancel_appointment(request, appointment)
    assert smtp.messages == [] and _rows(dbsession, appointment_id) == []


def test_a_client_without_address_or_an_anonymised_appointment_gets_nothing(
    app, clinic_oost, smtp, dbsession
):
    clinic_oost.client.email = ""
    dbsession.flush()
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    with org_request(app, "clinic") as request:
        appointment = load(request, appointment_id)
        appointment.client = None
        assert send_client_mail(request, appointment, "reminder") is None
    assert smtp.messages == []


def test_an_unknown_kind_is_a_programming_error(app, clinic_oost):
    appointment_id = book(
        app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id, notify=False
    )
    with org_request(app, "clinic") as request:
        with pytest.raises(ValueError):
            send_client_mail(request, load(request, appointment_id), "birthday")


# -- refused addresses -------------------------------------------------------------------


class RefusingSMTP:
    """A real SMTP server that refuses every address at bounce.example and
    keeps the messages it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@bounce.example"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def refusing_server():
    server = RefusingSMTP()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def refusing(app, refusing_server, monkeypatch):
    refusing_server.messages.clear()
    monkeypatch.setattr(
        mail_outbox(app.registry), "transport", SMTPTransport("127.0.0.1", refusing_server.port)
    )
    return refusing_server


def test_refused_address_is_reported_to_the_department_admin(app, clinic_oost, refusing, dbsession):
    clinic_oost.client.email = "nobody@bounce.example"
    dbsession.flush()
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [notice] = refusing.messages  # to the GP department's admin only
    assert notice["To"] == "gp-admin@example.org"
    assert "A. de Vries" in notice["Subject"]
    body = body_of(notice)
    assert "A. de Vries" in body and "nobody@bounce.example" in body
    assert "Tuesday, 5 March 2030" in body and "10:00" in body and "Dr. Bakker" in body
    assert "550 no such user" in body

    [row] = _rows(dbsession, appointment_id)
    assert row.status == "refused" and row.attempts == 1 and "550" in row.last_error
    # Not retried: the worker finds nothing due.
    dbsession.expire_all()
    assert mail_outbox(app.registry).deliver_due(only_ids=[row.id]) == 0
    assert len(refusing.messages) == 1


def test_a_plugin_hears_of_a_refused_address_where_it_is_enabled(
    app, clinic_oost, refusing, dbsession, enable_plugin
):
    consultroom_hello.APPOINTMENT_EVENTS.clear()
    enable_plugin(clinic_oost.org, "hello")
    clinic_oost.client.email = "nobody@bounce.example"
    dbsession.flush()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [(recipient, reason)] = [
        event[2:] for event in consultroom_hello.APPOINTMENT_EVENTS if event[0] == "mail_refused"
    ]
    assert recipient == "nobody@bounce.example" and reason.startswith("550")


def test_refused_address_goes_to_the_organisation_admin_without_department_admin(
    app, clinic_oost, refusing, dbsession
):
    clinic_oost.client.email = "nobody@bounce.example"
    dbsession.flush()
    book(
        app, "clinic", clinic_oost.client.id, clinic_oost.physio_practitioner.id
    )  # Physio: no admin
    assert [m["To"] for m in refusing.messages] == ["org-admin@example.org"]
    assert "550 no such user" in body_of(refusing.messages[0])


def test_a_refused_staff_mail_reports_nothing(app, clinic_oost, refusing, dbsession):
    # Only client mail about an appointment is reported (and never in a loop).
    clinic_oost.gp_admin.email = "gone@bounce.example"
    clinic_oost.client.email = "nobody@bounce.example"
    dbsession.flush()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    assert refusing.messages == []
    statuses = dbsession.scalars(
        select(OutboxMessage.status).where(OutboxMessage.organisation_id == clinic_oost.org.id)
    ).all()
    assert statuses == ["refused", "refused"]


def test_only_permanent_refusals_stop_retries():
    assert (
        refusal(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}))
        == "550 no such user"
    )
    assert refusal(smtplib.SMTPRecipientsRefused({"a@x": (450, b"greylisted")})) is None
    assert refusal(smtplib.SMTPDataError(554, b"rejected")) == "554 rejected"
    assert refusal(smtplib.SMTPDataError(451, b"try later")) is None
    # Our own login or sender being refused is not the client's fault.
    assert refusal(smtplib.SMTPAuthenticationError(535, b"bad login")) is None
    assert refusal(smtplib.SMTPSenderRefused(550, b"no", "noreply@x")) is None
    assert refusal(ConnectionRefusedError()) is None


def test_the_form_of_address_in_the_readers_language(app, clinic_oost, smtp, dbsession, webtest):
    """The organisation's form of address for practitioners, per language
    (Swedish too), comes before the practitioner's name in the e-mail and on
    the waiting page; a language without one shows the name alone."""
    clinic_oost.org.address_forms = {"sv": "doktor", "nl": "dokter"}
    clinic_oost.gp_practitioner.name = "Anna Bakker"
    clinic_oost.client.language = "sv"
    dbsession.flush()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [message] = smtp.messages
    assert "doktor Anna Bakker" in body_of(message)
    [link] = LINK.findall(body_of(message))
    with time_machine.travel(START, tick=False):
        page = webtest("clinic").get(path_on(link, "clinic"))
    assert "doktor Anna Bakker" in page.text
    clinic_oost.client.language = "de"
    dbsession.flush()
    with org_request(app, "clinic") as request:
        appointment = request.dbsession.scalars(select(Appointment)).one()
        assert "Anna Bakker" in compose(request, appointment, "reminder").body
        assert "doktor" not in compose(request, appointment, "reminder").body
