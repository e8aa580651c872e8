"""Client texts in several languages and per department: the waiting-room
text, the follow-up message, the disclaimer and service messages. A
department admin writes their own department's waiting-room texts and
service messages only (another department's are not listed and a 404 by
id); a Dutch and a Swedish client read theirs, with the organisation's own
text as the fallback; bad input is refused with nothing saved."""

from datetime import datetime, timedelta

import pytest
import time_machine

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.tenancy.models import Department
from consultroom.waitingroom.models import ClientText, ServiceMessage
from consultroom.waitingroom.texts import follow_up_for

START = datetime(2026, 6, 10, 8, 0)  # 10:00 in Amsterdam (summer time)


@pytest.fixture
def org(make_organisation, dbsession):
    org = make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")
    dbsession.add_all([Department(organisation_id=org.id, name=n) for n in ("GP", "Physio")])
    dbsession.flush()
    return org


def dept(org, name):
    return next(d for d in org.departments if d.name == name)


@pytest.fixture
def gp_admin(webtest, login, make_user, org):
    app = webtest("clinic")
    login(app, make_user(org, role=Role.dept_admin, department_id=dept(org, "GP").id))
    return app


@pytest.fixture
def org_admin(webtest, login, make_user, org):
    app = webtest("clinic")
    login(app, make_user(org, role=Role.org_admin))
    return app


def text_form(page):
    return next(f for f in page.forms.values() if "language" in f.fields)


def texts(dbsession):
    dbsession.expire_all()
    return dbsession.query(ClientText).order_by(ClientText.id).all()


def add_text(dbsession, org, kind, language, text, department=None):
    row = ClientText(
        organisation_id=org.id,
        department_id=department.id if department else None,
        kind=kind,
        language=language,
        text=text,
    )
    dbsession.add(row)
    dbsession.flush()
    return row


# -- department admins ---------------------------------------------------------------


def test_a_department_admin_writes_their_departments_waiting_room_text(gp_admin, org, dbsession):
    gp, physio = dept(org, "GP"), dept(org, "Physio")
    theirs = add_text(dbsession, org, "waiting_room", "nl", "Physio welkom", physio)
    organisation = add_text(dbsession, org, "waiting_room", "de", "Willkommen")
    page = gp_admin.get("/client-texts/waiting-room")
    assert "Physio welkom" not in page.text and "Willkommen" not in page.text
    form = text_form(page)
    assert [value for value, _sel, _label in form["department_id"].options] == [str(gp.id)]
    form["language"] = "sv"
    form["text"] = "Välkommen *|client_name|*"
    form.submit(status=303)
    [_a, _b, mine] = texts(dbsession)
    assert (mine.department_id, mine.language, mine.text) == (
        gp.id,
        "sv",
        "Välkommen *|client_name|*",
    )
    # Their own is listed and edited; another department's or the
    # organisation's is a 404 by id.
    form = text_form(gp_admin.get(f"/client-texts/waiting-room/{mine.id}"))
    form["text"] = "Välkommen!"
    form.submit(status=303)
    assert texts(dbsession)[2].text == "Välkommen!"
    token = form["csrf_token"].value
    for foreign in (theirs, organisation):
        gp_admin.get(f"/client-texts/waiting-room/{foreign.id}", status=404)
        gp_admin.post(
            f"/client-texts/waiting-room/{foreign.id}/delete", {"csrf_token": token}, status=404
        )
    # The follow-up and the disclaimer are the organisation admin's.
    gp_admin.get("/client-texts/follow-up", status=404)
    gp_admin.get("/client-texts/disclaimer", status=404)
    gp_admin.post(f"/client-texts/waiting-room/{mine.id}/delete", {"csrf_token": token}, status=303)
    assert len(texts(dbsession)) == 2


def test_the_menu_offers_a_department_admin_the_waiting_room_text(gp_admin):
    page = gp_admin.get("/service-messages")
    assert 'href="/client-texts/waiting-room"' in page.text
    assert 'href="/mail-templates"' in page.text


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"text": ""}, "This field is required."),
        ({"text": "x" * 5001}, "Field cannot be longer than 5000 characters."),
        ({"text": "Hallo *|patient|*"}, "Unknown placeholder: *|patient|*"),
        ({"text": "ok", "language": "xx"}, "Not a valid choice."),
        ({"text": "ok", "department_id": "999999"}, "Not a valid choice."),
        ({"text": "ok\x00"}, "control"),
    ],
)
def test_bad_texts_are_refused_with_nothing_saved(gp_admin, org, dbsession, fields, error):
    form = text_form(gp_admin.get("/client-texts/waiting-room"))
    form["language"] = "nl"
    for key, value in fields.items():
        if key in ("department_id", "language"):
            form[key].force_value(value)
        else:
            form[key] = value
    page = form.submit(status=200)
    assert error in page.text
    assert texts(dbsession) == []


def test_one_text_per_department_and_language(org_admin, org, dbsession):
    add_text(dbsession, org, "follow_up", "nl", "Bedankt")
    form = text_form(org_admin.get("/client-texts/follow-up"))
    form["language"] = "nl"
    form["text"] = "Nogmaals bedankt"
    page = form.submit(status=200)
    assert "There is a text in this language for it already" in page.text
    assert [t.text for t in texts(dbsession)] == ["Bedankt"]
    org_admin.get("/client-texts/nonsense", status=404)


def test_a_department_admin_edits_their_service_messages_in_languages(gp_admin, org, dbsession):
    gp, physio = dept(org, "GP"), dept(org, "Physio")
    theirs = ServiceMessage(organisation_id=org.id, department_id=gp.id, text="Late today")
    other = ServiceMessage(organisation_id=org.id, department_id=physio.id, text="Physio")
    dbsession.add_all([theirs, other])
    dbsession.flush()
    gp_admin.get(f"/service-messages/{other.id}", status=404)
    page = gp_admin.get(f"/service-messages/{theirs.id}")
    form = next(f for f in page.forms.values() if "text_nl" in f.fields)
    form["text_nl"] = "Vandaag later"
    form["text_sv"] = "Sent idag"
    form.submit(status=303)
    form["text_de"] = "x" * 1001
    assert "Field cannot be longer than 1000 characters." in form.submit(status=200).text
    dbsession.expire_all()
    assert dbsession.get(ServiceMessage, theirs.id).translations == {
        "nl": "Vandaag later",
        "sv": "Sent idag",
    }


# -- what clients read ---------------------------------------------------------------


@pytest.fixture
def booked(org, make_user, dbsession):
    """Appointments of a Dutch, a Swedish and an English client with the GP."""
    doctor = make_user(org, name="Dr. Jansen", department_id=dept(org, "GP").id)
    made = {}
    for n, (language, name) in enumerate((("sv", "Lindqvist"), ("nl", "Bakker"), ("en", "Smith"))):
        client = Client(organisation_id=org.id, initials="A.", last_name=name, language=language)
        made[language] = Appointment(
            organisation_id=org.id,
            client=client,
            practitioner=doctor,
            starts_at=START + timedelta(minutes=20 * n),
            duration_minutes=20,
        )
    dbsession.add_all(made.values())
    dbsession.flush()
    return made


def waiting_page(webtest, appointment):
    with time_machine.travel(START, tick=False):
        return webtest("clinic").get(f"/c/{appointment.token}")


def test_each_client_reads_the_texts_in_their_language(webtest, org, booked, dbsession):
    gp = dept(org, "GP")
    org.waiting_room_text = "Welcome *|client_name|*."
    org.settings = {**org.settings, "disclaimer": "No recordings.", "follow_up_text": "Bye."}
    add_text(dbsession, org, "waiting_room", "nl", "Welkom bij de huisarts, *|client_name|*.", gp)
    add_text(dbsession, org, "waiting_room", "nl", "Welkom bij de kliniek.")
    add_text(dbsession, org, "waiting_room", "sv", "Välkommen *|client_name|*, kl *|time|*.")
    add_text(dbsession, org, "disclaimer", "sv", "Inga inspelningar.")
    add_text(dbsession, org, "follow_up", "nl", "Dank u wel.")
    add_text(dbsession, org, "follow_up", "sv", "Tack så mycket.")
    dbsession.add(
        ServiceMessage(
            organisation_id=org.id, text="Phones are down", translations={"nl": "Telefoon stuk"}
        )
    )
    dbsession.flush()

    dutch = waiting_page(webtest, booked["nl"]).text
    assert "Welkom bij de huisarts, A. Bakker." in dutch  # the department's first
    assert "Welkom bij de kliniek." not in dutch
    assert "Telefoon stuk" in dutch and "Phones are down" not in dutch
    assert "No recordings." in dutch  # no Dutch wording: the organisation's

    swedish = waiting_page(webtest, booked["sv"]).text
    assert "Välkommen A. Lindqvist, kl 10:00." in swedish
    assert "Inga inspelningar." in swedish and "No recordings." not in swedish
    assert "Phones are down" in swedish  # no Swedish wording: the message as written

    english = waiting_page(webtest, booked["en"]).text
    assert "Welcome A. Smith." in english and "Phones are down" in english

    assert follow_up_for(dbsession, org, booked["nl"], booked["nl"].client) == "Dank u wel."
    assert follow_up_for(dbsession, org, booked["sv"], booked["sv"].client) == "Tack så mycket."
    assert follow_up_for(dbsession, org, booked["en"], booked["en"].client) == "Bye."


def test_a_disclaimer_wording_does_not_switch_the_disclaimer_on(webtest, org, booked, dbsession):
    add_text(dbsession, org, "disclaimer", "sv", "Inga inspelningar.")
    assert "Inga inspelningar." not in waiting_page(webtest, booked["sv"]).text
