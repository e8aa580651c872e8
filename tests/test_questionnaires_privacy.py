"""What the questionnaires plugin keeps of a client's answers and who reads
them (plugins/questionnaires): envelope encryption (a data key per client,
wrapped by the key encryption key from the settings), so that a dump of
the database holds no answer; erasing the client destroys their key and
answers, and the erasure's audit entry remains; anonymising an
appointment deletes its answers and re-keys the client; staff read answers
on the client's and appointment's pages and in the room's side panel, each
read audited and listed on the questionnaire's page; segregation applies;
each organisation gets the default anamnesis questionnaire in its language."""

from datetime import datetime, timedelta

import pytest
from consultroom_questionnaires import crypto, service
from consultroom_questionnaires.anamnesis import FIELDS
from consultroom_questionnaires.models import ClientKey, Questionnaire, Response, Status
from questionnaires_support import (  # noqa: F401 (fixtures)
    EVERY_TYPE,
    build,
    clinic_fixture,
    kek_fixture,
    keys_by_label,
    questionnaire,
    responses,
    staff,
)
from sqlalchemy import inspect, select, text
from test_questionnaires_filling import book_with, fill_form

from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.jobs import anonymise

from clientmail_support import org_request
from clients_support import make_client, post

CANARY = "canary-7f3a9c-answer"


def dump(dbsession):
    """Everything the database holds, as text: SQLite's own dump of the
    connection (which sees this test's rows), or every row of every table
    of PostgreSQL as JSON."""
    connection = dbsession.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        return "\n".join(raw.iterdump())
    tables = inspect(connection).get_table_names()
    return "\n".join(
        str(row[0])
        for table in tables
        for row in connection.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
    )


def fill_with_canary(webtest, dbsession, token, keys):
    form = fill_form(webtest("quest").get(f"/q/{token}"))
    form[keys["Your GP"]] = CANARY
    form[keys["Complaints"]] = CANARY + " in long text"
    form[keys["Date of birth"]] = "1970-01-01"
    form.submit("action", value="finish", status=303)
    assert responses(dbsession)[0].status is Status.finished


@pytest.fixture
def answered(clinic, webtest, login, dbsession):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:8])
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid)
    response = responses(dbsession)[0]
    fill_with_canary(webtest, dbsession, response.token, keys)
    return {"admin": admin, "qid": qid, "keys": keys, "response": response}


def test_a_database_dump_holds_no_answer_and_erasing_destroys_key_and_answers(
    clinic, answered, webtest, login, dbsession
):
    admin = answered["admin"]
    page = admin.get(f"/questionnaires/answers/{answered['response'].id}")
    assert CANARY in page.text  # readable with the key
    before = dump(dbsession)
    # The dump holds the plugin's rows (the response's link token), not the answer.
    assert answered["response"].token in before and CANARY not in before
    assert CANARY.encode().hex() not in before  # nor as bytes
    key = dbsession.scalar(select(ClientKey))
    assert key.client_id == clinic["client"].id and len(key.wrapped) == 12 + 32 + 16

    # A client with an upcoming appointment cannot be deleted: it was last year.
    appointment = dbsession.get(Appointment, answered["response"].appointment_id)
    appointment.starts_at -= timedelta(days=3650)
    dbsession.flush()
    client_id = clinic["client"].id
    post(admin, f"/clients/{client_id}/delete", {}, status=303)
    dbsession.expire_all()
    assert dbsession.scalar(select(ClientKey.id)) is None
    assert dbsession.scalar(select(Response.id)) is None
    after = dump(dbsession)
    assert CANARY not in after
    erased = dbsession.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "client.delete",
            AuditEntry.object_id == str(client_id),
        )
    ).all()
    assert len(erased) == 1
    # The views of the answers stay in the trail too (who read what, when).
    assert dbsession.scalar(select(AuditEntry.id).where(AuditEntry.action == "questionnaires.view"))


def test_without_the_key_encryption_key_the_answers_are_unreadable(
    clinic, answered, app, dbsession
):
    response = answered["response"]
    with org_request(app, "quest") as request:
        assert service.answers_of(request, request.dbsession.get(Response, response.id))
    # A request reads a client's data key once; the next one finds the key changed.
    app.registry.settings[crypto.SETTING] = crypto.base64.urlsafe_b64encode(b"\1" * 32).decode()
    with org_request(app, "quest") as request:
        with pytest.raises(crypto.Undecryptable):
            service.answers_of(request, request.dbsession.get(Response, response.id))


def test_a_new_key_encryption_key_in_front_rewraps_the_data_key(
    clinic, answered, app, dbsession, kek
):
    new = crypto.base64.urlsafe_b64encode(b"\2" * 32).decode()
    app.registry.settings[crypto.SETTING] = f"{new} {kek}"
    old_id = dbsession.scalar(select(ClientKey.kek_id))
    with org_request(app, "quest") as request:
        answers = service.answers_of(
            request, request.dbsession.get(Response, answered["response"].id)
        )
        assert CANARY in answers.values()
    dbsession.expire_all()
    assert dbsession.scalar(select(ClientKey.kek_id)) != old_id
    app.registry.settings[crypto.SETTING] = new  # the old key can go now
    with org_request(app, "quest") as request:
        assert (
            CANARY
            in service.answers_of(
                request, request.dbsession.get(Response, answered["response"].id)
            ).values()
        )


def test_a_malformed_key_encryption_key_is_a_clear_configuration_error():
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="32 url-safe base64-encoded bytes"):
        crypto.key_encryption_keys({crypto.SETTING: "too-short", "session.secret": "s"})


def test_anonymising_an_appointment_deletes_its_answers_and_rekeys_the_client(
    clinic, answered, app, webtest, dbsession
):
    # A second questionnaire of the same client, on its own: it stays.
    with org_request(app, "quest") as request:
        kept = service.attach(
            request, request.dbsession.get(Questionnaire, answered["qid"]), clinic["client"].id
        )
        service.store_answers(request, kept, {answered["keys"]["Your GP"]: "stays"}, False)
        kept_id = kept.id
    old_key = dbsession.scalar(select(ClientKey.wrapped))
    now = datetime(2031, 6, 1, 12)
    clinic["org"].settings = {"anonymise_after_days": 30}
    appointment = dbsession.get(Appointment, answered["response"].appointment_id)
    appointment.starts_at = now - timedelta(days=40)
    dbsession.flush()
    assert anonymise.run(app.registry, "quest", now) == 1
    dbsession.expire_all()
    assert [r.id for r in dbsession.scalars(select(Response))] == [kept_id]
    assert dbsession.scalar(select(ClientKey.wrapped)) != old_key
    with org_request(app, "quest") as request:
        kept = request.dbsession.get(Response, kept_id)
        assert service.answers_of(request, kept) == {answered["keys"]["Your GP"]: "stays"}
    assert CANARY not in dump(dbsession)


def test_staff_read_answers_on_the_client_and_appointment_pages_each_read_audited(
    clinic, answered, webtest, login, dbsession
):
    response = answered["response"]
    doctor = staff(webtest, login, clinic["doctor"])
    client_page = doctor.get(f"/clients/{clinic['client'].id}").html
    [item] = client_page.select(".questionnaires-responses [data-response]")
    assert item["data-status"] == "finished"
    link = item.a["href"]
    appointment_page = doctor.get(f"/appointments/{response.appointment_id}").html
    assert appointment_page.select_one(".questionnaires-responses a")["href"] == link
    page = doctor.get(link)
    answer = page.html.select_one(f"[data-answer={answered['keys']['Your GP']}]")
    assert answer.get_text() == CANARY
    assert page.html.select_one(
        f"[data-answer={answered['keys']['Date of birth']}]"
    ).get_text() == ("1970-01-01")
    views = dbsession.scalars(
        select(AuditEntry).where(AuditEntry.action == "questionnaires.view")
    ).all()
    assert [(v.user_id, v.object_id, v.detail["where"]) for v in views] == [
        (clinic["doctor"].id, str(response.id), "page")
    ]
    # The questionnaire's page shows management who viewed and when.
    editor = answered["admin"].get(f"/questionnaires/{answered['qid']}").html
    rows = [
        [td.get_text() for td in tr.select("td")]
        for tr in editor.select(".questionnaire-views tbody tr")
    ]
    assert [row[1:] for row in rows] == [["Dr. Smit", "A. Jansen", "page"]]


def test_segregated_staff_do_not_find_another_departments_clients_answers(
    clinic, answered, webtest, login, dbsession
):
    clinic["org"].settings = {"strict_departments": True}
    dbsession.flush()
    therapist = staff(webtest, login, clinic["therapist"])  # physio; the client is GP's
    therapist.get(f"/questionnaires/answers/{answered['response'].id}", status=404)
    assert not dbsession.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "questionnaires.view")
    )


def test_another_organisations_staff_do_not_find_the_answers(
    clinic, answered, webtest, login, make_organisation, make_user, enable_plugin
):
    from consultroom.accounts.models import Role

    other = make_organisation("other")
    enable_plugin(other, "questionnaires")
    app = staff(webtest, login, make_user(other, role=Role.org_admin), "other")
    app.get(f"/questionnaires/answers/{answered['response'].id}", status=404)


def test_the_room_side_panel_shows_the_answers_to_staff_audited(
    clinic, answered, webtest, login, dbsession
):
    from consultroom.room.models import Room

    response = answered["response"]
    appointment = dbsession.get(Appointment, response.appointment_id)
    appointment.starts_at = utcnow().replace(microsecond=0)
    room = Room(
        organisation_id=clinic["org"].id,
        appointment_id=appointment.id,
        created_by_id=clinic["doctor"].id,
    )
    dbsession.add(room)
    dbsession.flush()
    doctor = staff(webtest, login, clinic["doctor"])
    page = doctor.get(f"/room/{room.id}").html
    panel = page.select_one('[data-room-tab-panel="questionnaires"]')
    assert CANARY in panel.get_text()
    assert page.select_one('[data-room-tab="questionnaires"]') is not None
    # The client's side of the room has no such tab.
    client_page = webtest("quest").get(f"/c/{appointment.token}").html
    assert client_page.select_one('[data-room-tab-panel="questionnaires"]') is None
    dbsession.expire_all()
    views = dbsession.scalars(
        select(AuditEntry).where(AuditEntry.action == "questionnaires.view")
    ).all()
    assert [v.detail["where"] for v in views] == ["room"]


def test_every_organisation_gets_the_anamnesis_in_its_language_once(
    make_organisation, enable_plugin, dbsession, webtest, login, make_user
):
    from consultroom.accounts.models import Role

    org = make_organisation("anam", language="en")
    enable_plugin(org, "questionnaires")
    enable_plugin(org, "questionnaires", enabled=False)
    enable_plugin(org, "questionnaires")
    [default] = dbsession.scalars(
        select(Questionnaire).where(Questionnaire.organisation_id == org.id)
    ).all()
    assert default.is_default and default.title == "Anamnesis"
    assert len(default.latest.fields) == len(FIELDS)
    types = {f["type"] for f in default.latest.fields}
    assert {"date", "country", "long_text", "multiple_choice", "yes_no", "image"} <= types
    app = staff(webtest, login, make_user(org, role=Role.org_admin), "anam")
    assert "Anamnesis" in app.get("/questionnaires").text
    preview = app.get(f"/questionnaires/{default.id}/preview").text
    assert "What is the reason for your consultation?" in preview


def test_the_portal_lists_what_the_client_still_has_to_fill_in(
    clinic, webtest, login, dbsession, app
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:3])
    book_with(admin, clinic, qid)
    response = responses(dbsession)[0]
    from consultroom_questionnaires.hooks import consultroom_template_slot

    with org_request(app, "quest") as request:
        from consultroom.clients.models import Client

        client = request.dbsession.get(Client, clinic["client"].id)
        html = str(consultroom_template_slot(request, "client_portal", {"client": client}))
    assert f'href="/q/{response.token}"' in html and "Questionnaires to fill in" in html
    # Another client of the organisation sees none of it.
    other = make_client(dbsession, clinic["org"], "Other")
    with org_request(app, "quest") as request:
        from consultroom.clients.models import Client

        client = request.dbsession.get(Client, other.id)
        assert consultroom_template_slot(request, "client_portal", {"client": client}) is None


def test_the_hosting_provider_enables_the_plugin_from_the_console(
    webtest, login, make_user, make_organisation, dbsession
):
    import re

    from consultroom.accounts.models import Role

    org = make_organisation("consoled", language="en")
    console = webtest()
    login(console, make_user(None, role=Role.superuser, email="provider@host.example"))
    page = console.get(f"/organisations/{org.id}")
    action = page.html.find("form", action=re.compile(r"/plugins/questionnaires$"))["action"]
    form = next(f for f in page.forms.values() if f.action == action)
    form.submit(status=303)
    dbsession.expire_all()
    [default] = dbsession.scalars(
        select(Questionnaire).where(Questionnaire.organisation_id == org.id)
    ).all()
    assert default.is_default and default.title == "Anamnesis"
