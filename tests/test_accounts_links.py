"""E-mailed set-password links: invitations, "send me a new link", their
single use and lifetime, and the outbox that carries them (nothing sent for
a rolled-back change; failed sends retried)."""

import re
from datetime import timedelta

import consultroom_hello
import pytest
import transaction
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import select

from consultroom.accounts import service
from consultroom.accounts.models import Role, User, UserToken
from consultroom.db import request_session, utcnow
from consultroom.mail import Outbox, mail_outbox
from consultroom.mail.models import OutboxMessage
from consultroom.mail.transports import SMTPTransport
from consultroom.testing import PASSWORD, free_port

NEW_PASSWORD = "a brand new password"
LINK = re.compile(r"(https?://[^/\s]+)(/set-password/[A-Za-z0-9_\-]+)")


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def admin(org, make_user):
    return make_user(org, role=Role.org_admin, name="Org Admin")


def page_form(page):
    """The page's own form (the layout's log-out form comes first)."""
    forms = [f for f in page.forms.values() if f.action != "/logout"]
    assert len(forms) == 1
    return forms[0]


def link_in(message):
    """``(origin, path)`` of the one set-password link in a mail."""
    found = LINK.findall(message.get_content())
    assert len(found) == 1, message.get_content()
    return found[0]


def invite(webtest, login, admin, email="new@example.org", name="New Person", **fields):
    app = webtest(admin.organisation.subdomain)
    login(app, admin)
    form = page_form(app.get("/staff/new"))
    form["name"], form["email"] = name, email
    for key, value in fields.items():
        form[key] = value
    return form.submit()


def choose_password(app, path, password=NEW_PASSWORD, confirm=None):
    form = app.get(path).forms[0]
    form["password"] = password
    form["confirm"] = password if confirm is None else confirm
    return form.submit()


def ask_new_link(app, email):
    form = app.get("/new-link").forms[0]
    form["email"] = email
    return form.submit(status=200)


def assert_link_invalid(response):
    assert response.status_int == 410
    assert "This link no longer works" in response.text
    assert 'href="/new-link"' in response.text


# --- invitations ------------------------------------------------------------------


def test_invitation_mail_and_link(webtest, login, admin, smtp, dbsession):
    response = invite(webtest, login, admin)
    assert response.status_int == 303
    assert "New Person has been invited by e-mail." in response.follow().text
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "new@example.org"
    assert message["Subject"] == "You are invited to Acme Clinic"
    assert "noreply@consultroom.test" in message["From"]
    assert "valid for 24 hours" in message.get_content()
    origin, path = link_in(message)
    assert origin == "http://acme.consultroom.test"

    user = dbsession.scalar(select(User).where(User.email == "new@example.org"))
    assert user.organisation_id == admin.organisation_id and user.password_hash is None
    # Only the token's hash is stored.
    secret = path.rsplit("/", 1)[1]
    tokens = dbsession.scalars(select(UserToken).where(UserToken.user_id == user.id)).all()
    assert len(tokens) == 1 and tokens[0].purpose == "invite"
    assert secret not in tokens[0].token_hash


def test_following_the_link_sets_the_password_and_logs_in(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    app = webtest("acme")
    page = app.get(path)
    assert "Choose a password for new@example.org" in page.text
    # The link is not a login: no menu, no log-out button yet.
    assert "Log out" not in page.text and 'href="/profile"' not in page.text
    response = choose_password(app, path)
    assert response.status_int == 303
    home = response.follow()
    assert "Your password is set. Welcome!" in home.text
    assert "New Person" in home.text and "Log out" in home.text

    user = dbsession.scalar(select(User).where(User.email == "new@example.org"))
    dbsession.refresh(user)
    assert user.password_hash.startswith("$argon2")
    # ...and it is the password to log in with from now on.
    login(webtest("acme"), user, password=NEW_PASSWORD)


def test_link_works_once(webtest, login, admin, smtp):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    choose_password(webtest("acme"), path)
    assert_link_invalid(webtest("acme").get(path, status=410))
    # Nor can it be posted to again.
    app = webtest("acme")
    token = app.get("/login").forms[0]["csrf_token"].value
    response = app.post(
        path,
        {
            "password": "yet another password",
            "confirm": "yet another password",
            "csrf_token": token,
        },
        status=410,
    )
    assert_link_invalid(response)


def test_setting_a_password_spends_every_other_link(webtest, login, admin, smtp, make_user):
    user = make_user(admin.organisation, password=None)
    ask_new_link(webtest("acme"), user.email)
    ask_new_link(webtest("acme"), user.email)
    (_o, first), (_o2, second) = (link_in(m) for m in smtp.messages)
    assert first != second
    choose_password(webtest("acme"), second)
    assert_link_invalid(webtest("acme").get(first, status=410))


def test_invalid_password_on_the_link_page_keeps_the_link(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    app = webtest("acme")
    page = choose_password(app, path, password="short")
    assert page.status_int == 200
    assert "Field must be between 10 and 1000 characters long." in page.text
    page = choose_password(app, path, password=NEW_PASSWORD, confirm="something else!")
    assert page.status_int == 200 and "The passwords differ." in page.text
    user = dbsession.scalar(select(User).where(User.email == "new@example.org"))
    assert user.password_hash is None
    assert choose_password(app, path).status_int == 303


def test_expired_link(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    token = dbsession.scalar(select(UserToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    dbsession.flush()
    assert_link_invalid(webtest("acme").get(path, status=410))


def test_unexpired_link_at_the_end_of_its_life_still_works(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    token = dbsession.scalar(select(UserToken))
    token.expires_at = utcnow() + timedelta(seconds=30)
    dbsession.flush()
    assert choose_password(webtest("acme"), path).status_int == 303


def test_unknown_link(webtest, org):
    assert_link_invalid(webtest("acme").get("/set-password/not-a-real-token", status=410))


def test_link_of_one_organisation_does_not_work_on_another(
    webtest, login, admin, smtp, make_organisation
):
    make_organisation("beta")
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    assert_link_invalid(webtest("beta").get(path, status=410))
    assert_link_invalid(webtest().get(path, status=410))
    assert webtest("acme").get(path).status_int == 200


def test_link_of_a_deactivated_user_does_not_work(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    _origin, path = link_in(smtp.messages[0])
    user = dbsession.scalar(select(User).where(User.email == "new@example.org"))
    user.active = False
    dbsession.flush()
    assert_link_invalid(webtest("acme").get(path, status=410))


def test_guessing_links_is_rate_limited(webtest, org, app, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.token_address.max", "3")
    guesser = webtest("acme")
    for n in range(3):
        guesser.get(f"/set-password/guess{n}", status=410)
    page = guesser.get("/set-password/guess3", status=429)
    assert "Too many links were tried from your address" in page.text


def test_link_lifetime_follows_the_setting(
    webtest, login, admin, smtp, dbsession, app, monkeypatch
):
    monkeypatch.setitem(app.registry.settings, "accounts.link_hours", "2")
    invite(webtest, login, admin)
    assert "valid for 2 hours" in smtp.messages[0].get_content()
    token = dbsession.scalar(select(UserToken))
    lifetime = token.expires_at - utcnow()
    assert timedelta(hours=2) - timedelta(minutes=1) < lifetime <= timedelta(hours=2)


def test_link_lifetime_defaults_to_24_hours(webtest, login, admin, smtp, dbsession):
    invite(webtest, login, admin)
    token = dbsession.scalar(select(UserToken))
    lifetime = token.expires_at - utcnow()
    assert timedelta(hours=24) - timedelta(minutes=1) < lifetime <= timedelta(hours=24)


# --- "send me a new link" -----------------------------------------------------------

SENT = "If this address belongs to an account here, a link to set your password is on its way."


def test_new_link_for_an_existing_account(webtest, org, make_user, smtp, dbsession):
    user = make_user(org, email="ada@example.org")
    app = webtest("acme")
    assert 'href="/new-link"' in app.get("/login").text
    page = ask_new_link(app, "ADA@example.org ")
    assert SENT in page.text
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Set a new password for Acme Clinic"
    origin, path = link_in(message)
    assert origin == "http://acme.consultroom.test"
    choose_password(app, path)
    dbsession.refresh(user)
    login_app = webtest("acme")
    form = login_app.get("/login").forms[0]
    form["email"], form["password"] = user.email, NEW_PASSWORD
    assert form.submit().status_int == 303
    # The old password no longer works.
    form = webtest("acme").get("/login").forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    assert "The e-mail address or the password is wrong." in form.submit(status=200).text


def test_new_link_for_an_invited_account_is_an_invitation(webtest, org, make_user, smtp):
    make_user(org, email="ada@example.org", password=None)
    ask_new_link(webtest("acme"), "ada@example.org")
    assert smtp.messages[0]["Subject"] == "You are invited to Acme Clinic"


@pytest.mark.parametrize("who", ["nobody", "inactive", "other organisation"])
def test_new_link_answers_the_same_without_an_account(
    webtest, org, make_user, make_organisation, smtp, who
):
    known = make_user(org, email="known@example.org")
    make_user(org, email="inactive@example.org", active=False)
    make_user(make_organisation("beta"), email="other@example.org")
    email = {
        "nobody": "nobody@example.org",
        "inactive": "inactive@example.org",
        "other organisation": "other@example.org",
    }[who]
    unknown_page = ask_new_link(webtest("acme"), email)
    known_page = ask_new_link(webtest("acme"), known.email)
    strip = re.compile(r'name="csrf_token" value="[^"]*"|nonce="[^"]*"')
    assert strip.sub("", unknown_page.text) == strip.sub("", known_page.text)
    assert SENT in unknown_page.text
    assert [m["To"] for m in smtp.messages] == [known.email]


def test_new_link_with_an_invalid_address_is_a_clear_error(webtest, org, smtp):
    page = webtest("acme").get("/new-link").forms[0]
    page["email"] = "not an address"
    response = page.submit(status=200)
    assert "Invalid email address." in response.text
    assert SENT not in response.text
    assert smtp.messages == []


def test_new_link_requests_are_rate_limited(webtest, org, make_user, smtp):
    user = make_user(org)
    app = webtest("acme")
    for _ in range(5):
        assert SENT in ask_new_link(app, user.email).text
    page = ask_new_link(app, user.email)
    assert "Too many requests. Try again in 60 minutes." in page.text
    assert len(smtp.messages) == 5


def test_superuser_gets_a_console_link(webtest, make_user, smtp):
    root = make_user(None, role=Role.superuser, email="root@provider.example")
    ask_new_link(webtest(), root.email)
    origin, path = link_in(smtp.messages[0])
    assert origin == "http://consultroom.test"
    console = webtest()
    assert choose_password(console, path).status_int == 303
    assert console.get("/").status_int == 200


# --- the outbox ---------------------------------------------------------------------


def _request_for(app, org):
    request = Request.blank("/", base_url=f"http://{org.subdomain}.consultroom.test")
    env = prepare(request=request, registry=app.registry)
    return request, env["closer"]


@pytest.mark.parametrize("outcome", ["abort", "commit"])
def test_mail_is_sent_only_when_the_change_commits(
    app, org, db_connection, smtp, dbsession, outcome
):
    request, close = _request_for(app, org)
    try:
        request.tm.begin()
        service.create_staff(
            request, org, name="Rolled Back", email="rb@example.org", role=Role.practitioner
        )
        getattr(request.tm, outcome)()
    finally:
        close()
    created = dbsession.scalar(select(User).where(User.email == "rb@example.org"))
    queued = dbsession.scalars(select(OutboxMessage)).all()
    if outcome == "abort":
        assert smtp.messages == [] and created is None and queued == []
    else:
        assert [m["To"] for m in smtp.messages] == ["rb@example.org"]
        assert created is not None and [q.status for q in queued] == ["sent"]


@pytest.mark.parametrize("enabled", [True, False])
def test_a_plugin_hears_of_each_new_staff_member_where_it_is_enabled(
    webtest, login, admin, org, smtp, enable_plugin, enabled
):
    consultroom_hello.APPOINTMENT_EVENTS.clear()
    if enabled:
        enable_plugin(org, "hello")
    invite(webtest, login, admin, email="heard@example.org")
    heard = [("staff_created", "acme", "heard@example.org")] if enabled else []
    assert consultroom_hello.APPOINTMENT_EVENTS == heard


def test_a_failing_request_sends_no_invitation(webtest, login, admin, smtp, dbsession, app):
    """A plugin's hook fails after the invitation was queued: the whole
    request is rolled back, the mail included."""
    from consultroom.hookspecs import hookimpl

    class Failing:
        @hookimpl
        def consultroom_staff_created(self, request, user):
            raise RuntimeError("plugin failed")

    pm = app.registry.plugins.pm
    pm.register(Failing(), name="core:test-failing")
    try:
        with pytest.raises(RuntimeError, match="plugin failed"):
            invite(webtest, login, admin, email="never@example.org")
    finally:
        pm.unregister(name="core:test-failing")
    assert smtp.messages == []
    assert dbsession.scalar(select(User).where(User.email == "never@example.org")) is None
    assert dbsession.scalars(select(OutboxMessage)).all() == []


def test_queue_in_an_aborted_transaction_sends_nothing(
    app_settings, _app_dbmaker, db_connection, smtp, dbsession
):
    outbox = Outbox(app_settings, _app_dbmaker)
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    session = request_session(_app_dbmaker, manager)
    outbox.queue(session, manager, "x@example.org", "Subject", "Body")
    manager.abort()
    assert smtp.messages == []
    assert dbsession.scalars(select(OutboxMessage)).all() == []


def test_failed_invitation_is_retried_later(
    webtest, login, admin, smtp, dbsession, app, monkeypatch
):
    outbox = mail_outbox(app.registry)
    working = outbox.transport
    monkeypatch.setattr(outbox, "transport", SMTPTransport("127.0.0.1", free_port(), timeout=2))
    response = invite(webtest, login, admin)
    # The staff member is created all the same; the mail waits.
    assert response.status_int == 303
    assert smtp.messages == []
    row = dbsession.scalar(select(OutboxMessage))
    assert row.recipient == "new@example.org"
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at > utcnow()
    assert "ConnectionRefusedError" in row.last_error

    # Not due yet: nothing happens, even with the server back.
    monkeypatch.setattr(outbox, "transport", working)
    assert outbox.deliver_due() == 0
    assert smtp.messages == []

    later = row.next_attempt_at + timedelta(seconds=1)
    monkeypatch.setattr("consultroom.mail.utcnow", lambda: later)
    assert outbox.deliver_due() == 1
    assert [m["To"] for m in smtp.messages] == ["new@example.org"]
    dbsession.refresh(row)
    assert row.status == "sent" and row.attempts == 2 and row.sent_at is not None
    # The delayed link still works.
    _origin, path = link_in(smtp.messages[0])
    assert choose_password(webtest("acme"), path).status_int == 303
    assert outbox.deliver_due() == 0


def test_failed_send_with_a_custom_outbox(
    app_settings, _app_dbmaker, db_connection, smtp, dbsession, monkeypatch
):
    broken = Outbox({**app_settings, "mail.port": str(free_port())}, _app_dbmaker)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = request_session(_app_dbmaker, manager)
        row_id = broken.queue(session, manager, "x@example.org", "Subject", "Body").id
    row = dbsession.get(OutboxMessage, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > utcnow()

    fixed = Outbox(app_settings, _app_dbmaker)
    later = row.next_attempt_at + timedelta(seconds=1)
    monkeypatch.setattr("consultroom.mail.utcnow", lambda: later)
    assert fixed.deliver_due() == 1
    assert [m["Subject"] for m in smtp.messages] == ["Subject"]
    dbsession.refresh(row)
    assert (row.status, row.attempts) == ("sent", 2)


def test_mail_is_written_in_the_recipients_language(webtest, login, admin, smtp):
    # The admin works in English; the new colleague chose Dutch.
    invite(webtest, login, admin, email="nl@example.org", language="nl")
    [message] = smtp.messages
    assert message["Subject"].startswith("U bent uitgenodigd")
    assert "Er is voor u een account aangemaakt" in message.get_content()
    assert link_in(message)


def test_changing_the_password_ends_other_sessions(webtest, login, admin):
    here, elsewhere = webtest("acme"), webtest("acme")
    login(here, admin)
    login(elsewhere, admin)
    form = here.get("/profile").forms[2]
    form["current"], form["password"], form["confirm"] = PASSWORD, NEW_PASSWORD, NEW_PASSWORD
    form.submit(status=303)
    assert here.get("/profile").status_int == 200
    assert "/login" in elsewhere.get("/profile", status=302).location
