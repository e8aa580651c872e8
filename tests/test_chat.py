"""The chat plugin's continuous channels (plugins/chat): one per client and
department, made when an appointment is booked or by "create channel with";
the client writes through their appointment's link, the department's staff
see the count and answer; department admins withdraw and delete; messages
are encrypted at rest and every staff read is in the audit trail; the
segregation of clients applies; an organisation without chat sees none of
it."""

import re
from datetime import datetime, timedelta

import pytest
from consultroom_chat import service
from consultroom_chat.models import Author, Conversation, Kind, Message
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment, Origin
from consultroom.appointments.service import create_appointment
from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.jobs import anonymise, run_due
from consultroom.tenancy.models import Department
from consultroom.tenancy.options import SettingsError

from clientmail_support import START, body_of, org_request, path_on
from clients_support import make_client, post


@pytest.fixture
def clinic(make_organisation, make_user, enable_plugin, dbsession):
    org = make_organisation("chat")
    gp = Department(organisation_id=org.id, name="GP")
    physio = Department(organisation_id=org.id, name="Physio")
    dbsession.add_all([gp, physio])
    dbsession.flush()
    enable_plugin(org, "chat")
    return {
        "org": org,
        "gp": gp,
        "physio": physio,
        "doctor": make_user(org, role=Role.practitioner, name="Dr. Smit", department=gp),
        "therapist": make_user(org, role=Role.practitioner, name="Kees", department=physio),
        "gp_admin": make_user(org, role=Role.dept_admin, name="Greet", department=gp),
        "client": make_client(dbsession, org, "Jansen", departments=[gp], initials="A."),
    }


def _book(app, clinic):
    with org_request(app, "chat") as request:
        appointment = create_appointment(
            request,
            client=request.dbsession.get(Client, clinic["client"].id),
            practitioner=request.dbsession.get(User, clinic["doctor"].id),
            department=request.dbsession.get(Department, clinic["gp"].id),
            starts_at=START,
            duration_minutes=20,
            origin=Origin.staff,
        )
        return appointment.token


def _channel(dbsession, clinic):
    return dbsession.scalar(
        select(Conversation).where(
            Conversation.client_id == clinic["client"].id, Conversation.kind == Kind.channel
        )
    )


def _client_writes(webtest, token, text):
    page = webtest("chat").get(f"/c/{token}/messages")
    form = page.forms[0]
    form["text"] = text
    return form.submit()


def _staff(webtest, login, user):
    app = webtest("chat")
    login(app, user)
    return app


def test_booking_makes_the_channel_the_client_writes_and_the_department_answers(
    app, clinic, webtest, login, dbsession
):
    token = _book(app, clinic)
    channel = _channel(dbsession, clinic)
    assert channel.department_id == clinic["gp"].id

    assert _client_writes(webtest, token, "Can I bring my son?").status_int == 303
    doctor = _staff(webtest, login, clinic["doctor"])
    home = doctor.get("/").html
    assert "Messages (1)" in home.text
    top = home.select_one("header .top-bar a.chat-unread")
    assert top["href"] == "/messages" and top["aria-label"] == "1 unread messages"
    listing = doctor.get("/messages")
    assert "A. Jansen" in listing.text and 'class="badge"' in listing.text

    page = doctor.get(f"/messages/{channel.id}")
    assert "Can I bring my son?" in page.text
    home = doctor.get("/").html
    assert "Messages (1)" not in home.text and home.select_one(".chat-unread") is None  # read now
    form = page.forms[1]  # forms[0] is the logout form
    form["text"] = "Of course."
    form.submit().follow()
    assert "Of course." in webtest("chat").get(f"/c/{token}/messages").text


def test_the_shells_unread_count_is_kept_until_what_it_reads_changes(
    app, clinic, webtest, login, dbsession, statements
):
    """Every staff page shows the count; it is read from the database again
    only after a table it reads changed, and then it is right at once: a new
    message, a read, an organisation's segregation, a staff member's
    department."""
    token = _book(app, clinic)
    _client_writes(webtest, token, "One")
    doctor = _staff(webtest, login, clinic["doctor"])
    therapist = _staff(webtest, login, clinic["therapist"])  # Physio; the client is GP's
    assert "Messages (1)" in doctor.get("/").text
    statements.clear()
    assert "Messages (1)" in doctor.get("/").text
    assert not [sql for sql in statements if "chat_message" in sql]  # kept

    _client_writes(webtest, token, "Two")
    assert "Messages (2)" in doctor.get("/").text
    assert "Messages (2)" in therapist.get("/").text  # departments not strict
    clinic["org"].settings = {"strict_departments": True}
    dbsession.flush()
    assert "Messages (" not in therapist.get("/").text
    clinic["therapist"].department_id = clinic["gp"].id
    dbsession.flush()
    assert "Messages (2)" in therapist.get("/").text
    doctor.get(f"/messages/{_channel(dbsession, clinic).id}")
    assert "Messages (" not in doctor.get("/").text
    assert "Messages (2)" in therapist.get("/").text  # read by the doctor only


def test_messages_are_encrypted_at_rest_and_every_staff_read_is_audited(
    app, clinic, webtest, login, dbsession
):
    token = _book(app, clinic)
    _client_writes(webtest, token, "my private question")
    body = dbsession.scalar(select(Message.body))
    assert b"private" not in body
    channel = _channel(dbsession, clinic)
    _staff(webtest, login, clinic["doctor"]).get(f"/messages/{channel.id}")
    reads = dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "chat.read")).all()
    assert [(r.user_id, r.object_id) for r in reads] == [(clinic["doctor"].id, str(channel.id))]


def test_links_are_clickable_and_nothing_else_becomes_markup(app, clinic, webtest, dbsession):
    token = _book(app, clinic)
    _client_writes(
        webtest, token, "see https://example.org/a?b=1, <script>x</script> javascript:alert(1)"
    )
    text = webtest("chat").get(f"/c/{token}/messages").text
    assert (
        '<a href="https://example.org/a?b=1" rel="noopener noreferrer nofollow"'
        ' target="_blank">https://example.org/a?b=1</a>,'
    ) in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x" not in text
    assert 'href="javascript' not in text


@pytest.mark.parametrize(
    "text, error", [("   ", "Write a message first."), ("x" * 2001, "at most 2000 characters")]
)
def test_an_empty_or_too_long_message_is_refused_and_nothing_is_written(
    app, clinic, webtest, dbsession, text, error
):
    token = _book(app, clinic)
    page = _client_writes(webtest, token, text)
    assert page.status_int == 200 and error in page.text
    assert dbsession.scalar(select(Message.id)) is None


def test_staff_create_a_channel_with_a_client_they_may_see_only(
    app, clinic, webtest, login, dbsession, make_organisation
):
    other_org = make_organisation("elsewhere")
    stranger = make_client(dbsession, other_org, "Vreemd")
    doctor = _staff(webtest, login, clinic["doctor"])
    refused = post(doctor, "/messages", {"client": stranger.id, "department": clinic["gp"].id})
    assert refused.status_int == 200 and _channel(dbsession, clinic) is None
    made = post(doctor, "/messages", {"client": clinic["client"].id, "department": clinic["gp"].id})
    assert made.status_int == 303
    assert made.location.endswith(f"/messages/{_channel(dbsession, clinic).id}")


def test_segregated_departments_see_only_their_own_channels(app, clinic, webtest, login, dbsession):
    clinic["org"].settings = {"strict_departments": True}
    dbsession.flush()
    _book(app, clinic)
    channel = _channel(dbsession, clinic)
    therapist = _staff(webtest, login, clinic["therapist"])
    assert "A. Jansen" not in therapist.get("/messages").text
    therapist.get(f"/messages/{channel.id}", status=404)
    assert "A. Jansen" in _staff(webtest, login, clinic["doctor"]).get("/messages").text


def test_another_organisations_channel_is_not_found(
    app, clinic, webtest, login, dbsession, make_organisation, make_user, enable_plugin
):
    _book(app, clinic)
    channel = _channel(dbsession, clinic)
    other = make_organisation("other")
    enable_plugin(other, "chat")
    app_other = webtest("other")
    login(app_other, make_user(other, role=Role.org_admin))
    app_other.get(f"/messages/{channel.id}", status=404)
    post(app_other, f"/messages/{channel.id}/clear", {}, status=404)


def test_a_department_admin_withdraws_and_grants_the_clients_chat_and_deletes_it(
    app, clinic, webtest, login, dbsession
):
    token = _book(app, clinic)
    _client_writes(webtest, token, "first")
    channel = _channel(dbsession, clinic)
    doctor = _staff(webtest, login, clinic["doctor"])
    post(doctor, f"/messages/{channel.id}/access", {"allow": "0"}, status=403)

    client = webtest("chat")
    open_form = client.get(f"/c/{token}/messages").forms[0]  # the client's page stays open
    admin = _staff(webtest, login, clinic["gp_admin"])
    post(admin, f"/messages/{channel.id}/access", {"allow": "0"}, status=303)
    page = client.get(f"/c/{token}/messages")
    assert "You cannot write here any more" in page.text and "<textarea" not in page.text
    open_form["text"] = "second"
    assert "You cannot write here any more" in open_form.submit().text
    assert dbsession.scalar(select(Message.id).where(Message.id > 0).offset(1)) is None

    post(admin, f"/messages/{channel.id}/access", {"allow": "1"}, status=303)
    assert _client_writes(webtest, token, "third").status_int == 303
    post(admin, f"/messages/{channel.id}/clear", {}, status=303)
    assert dbsession.scalar(select(Message.id)) is None
    assert dbsession.scalar(select(AuditEntry.id).where(AuditEntry.action == "chat.clear"))


def test_a_department_with_a_chat_history_is_not_deleted(
    app, clinic, webtest, login, dbsession, make_user
):
    token = _book(app, clinic)
    _client_writes(webtest, token, "hello")
    admin = _staff(webtest, login, make_user(clinic["org"], role=Role.org_admin))
    page = post(admin, f"/departments/{clinic['gp'].id}/delete", {}).maybe_follow()
    assert "1 chat messages were written with this department" in page.text
    assert dbsession.get(Department, clinic["gp"].id) is not None


def test_the_client_page_links_to_the_clients_channels(app, clinic, webtest, login, dbsession):
    _book(app, clinic)
    channel = _channel(dbsession, clinic)
    page = _staff(webtest, login, clinic["doctor"]).get(f"/clients/{clinic['client'].id}")
    assert f'href="/messages/{channel.id}"' in page.text


def test_an_organisation_without_chat_has_none_of_it(
    app, clinic, webtest, login, dbsession, make_organisation, make_user
):
    off = make_organisation("nochat")
    doctor = make_user(off, role=Role.org_admin)
    client = make_client(dbsession, off, "Pietersen")
    with org_request(app, "nochat") as request:
        token = create_appointment(
            request,
            client=request.dbsession.get(Client, client.id),
            practitioner=request.dbsession.get(User, doctor.id),
            starts_at=START,
            duration_minutes=20,
            origin=Origin.staff,
        ).token
    assert dbsession.scalar(select(Conversation.id)) is None
    app_off = webtest("nochat")
    app_off.get(f"/c/{token}/messages", status=404)
    login(app_off, doctor)
    app_off.get("/messages", status=404)
    assert 'href="/messages"' not in app_off.get("/").text


def _reply(staff_app, channel_id, text):
    form = staff_app.get(f"/messages/{channel_id}").forms[1]
    form["text"] = text
    return form.submit()


def _notices(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("New message from")]


def test_the_client_is_told_by_mail_of_a_new_message_once_until_read_without_its_content(
    app, clinic, webtest, login, dbsession, smtp, open_portal
):
    clinic["client"].email = "jansen@example.org"
    dbsession.flush()
    _book(app, clinic)
    channel = _channel(dbsession, clinic)
    doctor = _staff(webtest, login, clinic["doctor"])
    _reply(doctor, channel.id, "Your results are in: secret details")
    _reply(doctor, channel.id, "and one more thing")
    [notice] = _notices(smtp)
    assert notice["To"] == "jansen@example.org"
    body = body_of(notice)
    assert "secret details" not in body and "one more thing" not in body
    [url] = re.findall(r"https?://\S+", body)
    browser = webtest("chat")
    # The portal asks for its PIN first, and then comes back to the message.
    to_pin = browser.get(path_on(url, "chat"), status=303)
    assert to_pin.location.endswith(f"?next={path_on(url, 'chat')}")
    open_portal(browser, clinic["client"])
    portal_page = browser.get(path_on(url, "chat"))
    assert "secret details" in portal_page.text and "one more thing" in portal_page.text

    _reply(doctor, channel.id, "read this too")
    assert len(_notices(smtp)) == 2  # the client had read the others


def test_the_portal_lists_the_clients_channels_with_what_is_unread(
    app, clinic, webtest, login, dbsession, open_portal
):
    _book(app, clinic)
    channel = _channel(dbsession, clinic)
    _reply(_staff(webtest, login, clinic["doctor"]), channel.id, "hello from the GP")
    browser = webtest("chat")
    open_portal(browser, clinic["client"])
    portal = browser.get(f"/portal/{clinic['client'].portal_token}")
    link = f"/portal/{clinic['client'].portal_token}/messages/{channel.id}"
    assert f'href="{link}"' in portal.text and '<span class="badge">1</span>' in portal.text

    other = make_client(dbsession, clinic["org"], "Ander", departments=[clinic["gp"]])
    stranger = webtest("chat")
    open_portal(stranger, other)
    stranger.get(f"/portal/{other.portal_token}/messages/{channel.id}", status=404)
    page = browser.get(link)
    form = page.forms[0]
    form["text"] = "thanks"
    form.submit(status=303)
    assert (
        '<span class="badge">' not in browser.get(f"/portal/{clinic['client'].portal_token}").text
    )


def _old_and_new_messages(app, clinic, webtest, dbsession, days_ago):
    token = _book(app, clinic)
    _client_writes(webtest, token, "old")
    _client_writes(webtest, token, "new")
    old = dbsession.scalars(select(Message).order_by(Message.id)).first()
    old.at = utcnow() - timedelta(days=days_ago)
    dbsession.flush()
    return token


def test_the_worker_deletes_messages_older_than_the_organisations_days(
    app, clinic, webtest, dbsession, enable_plugin, make_organisation
):
    enable_plugin(clinic["org"], "chat", enabled=False)
    enable_plugin(clinic["org"], "chat", settings={"delete_after_days": 30})
    _old_and_new_messages(app, clinic, webtest, dbsession, days_ago=31)
    assert run_due(app.registry)["chat.delete_old_messages"] == 1
    dbsession.expire_all()
    assert len(dbsession.scalars(select(Message.id)).all()) == 1


def test_the_worker_keeps_messages_when_the_organisation_keeps_them(
    app, clinic, webtest, dbsession
):
    _old_and_new_messages(app, clinic, webtest, dbsession, days_ago=3000)
    assert run_due(app.registry)["chat.delete_old_messages"] == 0
    dbsession.expire_all()
    assert len(dbsession.scalars(select(Message.id)).all()) == 2


def test_erasing_the_client_deletes_their_messages(
    app, clinic, webtest, login, dbsession, make_user
):
    admin = _staff(webtest, login, make_user(clinic["org"], role=Role.org_admin))
    made = post(admin, "/messages", {"client": clinic["client"].id, "department": clinic["gp"].id})
    _reply(admin, int(made.location.rsplit("/", 1)[1]), "about your health")
    assert dbsession.scalar(select(Message.id)) is not None
    post(admin, f"/clients/{clinic['client'].id}/delete", {}, status=303)
    dbsession.expire_all()
    assert dbsession.scalar(select(Message.id)) is None
    assert dbsession.scalar(select(Conversation.id)) is None


def test_anonymising_an_appointment_deletes_what_was_written_in_its_consultation(
    app, clinic, dbsession
):
    now = datetime(2031, 6, 1, 12)
    clinic["org"].settings = {"anonymise_after_days": 30}
    old = Appointment(
        organisation_id=clinic["org"].id,
        client_id=clinic["client"].id,
        practitioner_id=clinic["doctor"].id,
        starts_at=now - timedelta(days=40),
    )
    dbsession.add(old)
    dbsession.flush()
    with org_request(app, "chat") as request:
        conversation = service.consultation_of(
            request, appointment=request.dbsession.get(Appointment, old.id)
        )
        service.post(request, conversation, Author.client, "A. Jansen", "in the waiting room")
    assert anonymise.run(app.registry, "chat", now) == 1
    dbsession.expire_all()
    assert dbsession.scalar(select(Conversation.id)) is None
    assert dbsession.scalar(select(Message.id)) is None


def test_the_clients_and_appointments_lists_show_unread_messages(
    app, clinic, webtest, login, dbsession
):
    token = _book(app, clinic)
    channel = _channel(dbsession, clinic)
    doctor = _staff(webtest, login, clinic["doctor"])
    for path in ("/clients", "/appointments?status=scheduled"):
        assert "new messages" not in doctor.get(path).text
    _client_writes(webtest, token, "one")
    _client_writes(webtest, token, "two")
    badge = f'<a class="badge badge-warning" href="/messages/{channel.id}">2 new messages</a>'
    assert badge in doctor.get("/clients").text
    assert badge in doctor.get("/appointments?status=scheduled").text


def test_messages_cannot_both_stay_open_and_be_deleted(clinic, enable_plugin):
    enable_plugin(clinic["org"], "chat", enabled=False)
    with pytest.raises(SettingsError, match="cannot both stay open and be deleted"):
        enable_plugin(
            clinic["org"],
            "chat",
            settings={"keep_open_after": True, "delete_after_consultation": True},
        )


def test_the_channel_list_reads_the_same_statements_for_two_channels_or_twelve(
    clinic, webtest, login, make_user, dbsession, statements
):
    """Each channel's client and department come with the list, not one
    query each."""
    admin = _staff(webtest, login, make_user(clinic["org"], role=Role.org_admin))
    admin.get("/messages")  # what a first page reads once (the caches)

    def listing_statements(clients):
        for n in range(clients):
            client = make_client(dbsession, clinic["org"], f"Visser {n}")
            department = clinic["gp"] if n % 2 else clinic["physio"]
            dbsession.add(
                Conversation(
                    organisation_id=clinic["org"].id,
                    kind=Kind.channel,
                    client_id=client.id,
                    department_id=department.id,
                )
            )
        dbsession.flush()
        statements.clear()
        page = admin.get("/messages")
        return len(statements), page

    few, _page = listing_statements(2)
    many, page = listing_statements(10)
    assert "Visser 9" in page.text and "Physio" in page.text and "GP" in page.text
    assert many == few
