"""Remote support: the hosting provider's support user acts as a staff member
from the console, only while the organisation allows it, with a single-use
two-minute link, and every entry of that session names both people."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.remotesupport.models import SupportToken

from clients_support import make_client, post


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care", settings={"allow_remote_support": True})


@pytest.fixture
def member(make_user, dbsession, org):
    return make_user(org, role=Role.org_admin, name="Dr Doe")


@pytest.fixture
def provider(make_user):
    return make_user(None, role=Role.superuser, name="Pat Provider")


@pytest.fixture
def console(webtest, login, provider):
    app = webtest()
    login(app, provider)
    return app


def csrf_token(page):
    return page.html.find("input", attrs={"name": "csrf_token"})["value"]


def act_as(console, org, member, status=303):
    token = csrf_token(console.get(f"/organisations/{org.id}"))
    return console.post(
        f"/organisations/{org.id}/support/{member.id}", {"csrf_token": token}, status=status
    )


def enter_path(response):
    prefix = "http://acme.consultroom.test"
    assert response.location.startswith(prefix + "/support/enter/")
    return response.location[len(prefix) :]


@pytest.fixture
def support_app(webtest, console, org, member):
    app = webtest("acme")
    app.get(enter_path(act_as(console, org, member)), status=303)
    return app


def entries(dbsession, org, action=None):
    dbsession.expire_all()
    query = select(AuditEntry).where(AuditEntry.organisation_id == org.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return dbsession.scalars(query.order_by(AuditEntry.seq)).all()


def banner(page):
    found = page.html.select_one("form.support-banner")
    return found.get_text(" ", strip=True) if found else None


def test_refused_when_the_organisation_does_not_allow_it(console, dbsession, org, member):
    org.settings = {}
    dbsession.flush()
    page = console.get(f"/organisations/{org.id}")
    assert "does not allow remote support" in page.text
    assert not [b for b in page.html.select("button") if b.get_text() == "Act as"]
    response = act_as(console, org, member)
    assert response.location.endswith(f"/organisations/{org.id}")
    assert "Acme Care does not allow remote support." in response.follow().text
    assert dbsession.scalar(select(func.count()).select_from(SupportToken)) == 0


def test_works_when_allowed_and_shows_a_banner(console, webtest, org, member):
    page = console.get(f"/organisations/{org.id}")
    assert [
        b.get_text() for b in page.html.select(f"form[action$='/support/{member.id}'] button")
    ] == ["Act as"]
    app = webtest("acme")
    response = app.get(enter_path(act_as(console, org, member)), status=303)
    assert response.location.endswith("/")
    home = response.follow()
    assert "Pat Provider of the hosting provider is acting as Dr Doe" in banner(home)
    assert banner(app.get("/clients")) is not None


def test_both_identities_are_recorded(support_app, dbsession, org, member, provider):
    client = make_client(dbsession, org, "Jansen")
    support_app.get(f"/clients/{client.id}")
    post(support_app, "/support/end", {}, status=303)

    recorded = [
        (e.action, e.user_id, e.user_name, e.support_user_id, e.support_user_name)
        for e in entries(dbsession, org)
    ]
    assert recorded == [
        ("support.request", provider.id, "Pat Provider", None, ""),
        ("support.start", member.id, "Dr Doe", provider.id, "Pat Provider"),
        ("client.read", member.id, "Dr Doe", provider.id, "Pat Provider"),
        ("support.end", member.id, "Dr Doe", provider.id, "Pat Provider"),
    ]
    assert entries(dbsession, org, "support.end")[0].detail == {"reason": "ended"}
    support_app.get("/clients", status=302)  # logged out


def test_ending_sends_the_support_user_back_to_the_console(support_app, org):
    response = post(support_app, "/support/end", {}, status=303)
    assert response.location == f"http://consultroom.test/organisations/{org.id}"


def test_the_link_works_once(console, webtest, org, member):
    path = enter_path(act_as(console, org, member))
    webtest("acme").get(path, status=303)
    assert webtest("acme").get(path, status=410).html.h1.get_text() == "This link no longer works"


def test_the_link_expires_after_two_minutes(console, webtest, org, member):
    path = enter_path(act_as(console, org, member))
    with time_machine.travel(utcnow() + timedelta(minutes=3, seconds=1)):
        webtest("acme").get(path, status=410)


def test_only_the_hash_of_the_token_is_stored(console, dbsession, org, member):
    secret = enter_path(act_as(console, org, member)).rsplit("/", 1)[1]
    stored = dbsession.scalars(select(SupportToken)).one()
    assert stored.token_hash != secret and secret not in stored.token_hash


def test_the_link_works_only_on_its_own_organisation(
    console, webtest, make_organisation, org, member
):
    make_organisation("other", settings={"allow_remote_support": True})
    path = enter_path(act_as(console, org, member))
    webtest("other").get(path, status=410)
    webtest("acme").get(path, status=303)  # not used up by the wrong organisation


def test_the_session_ends_when_the_organisation_withdraws_permission(
    support_app, dbsession, org, member, provider
):
    support_app.get("/clients", status=200)
    org.settings = {"allow_remote_support": False}
    dbsession.flush()
    response = support_app.get("/clients", status=303)
    assert response.location.endswith("/login")
    assert "The remote support session has ended." in response.follow().text
    (end,) = entries(dbsession, org, "support.end")
    assert (end.user_id, end.support_user_id, end.detail) == (
        member.id,
        provider.id,
        {"reason": "not_allowed"},
    )
    support_app.get("/clients", status=302)  # to the login page: no session any more


def test_a_link_issued_before_permission_was_withdrawn_no_longer_works(
    console, webtest, dbsession, org, member
):
    path = enter_path(act_as(console, org, member))
    org.settings = {}
    dbsession.flush()
    webtest("acme").get(path, status=410)


def test_an_organisation_admin_cannot_act_as_anyone(
    webtest, login, dbsession, org, member, make_user
):
    colleague = make_user(org, role=Role.practitioner)
    app = webtest("acme")
    login(app, member)
    post(app, f"/organisations/{org.id}/support/{colleague.id}", {}, status=404)
    # On the console an organisation's admin has no account at all.
    console = webtest()
    form = console.get("/login").forms[0]
    form["email"], form["password"] = member.email, "correct horse battery"
    assert form.submit(status=200).html.select("p.error")
    token = csrf_token(console.get("/login"))
    console.post(
        f"/organisations/{org.id}/support/{colleague.id}", {"csrf_token": token}, status=403
    )
    assert dbsession.scalar(select(func.count()).select_from(SupportToken)) == 0


def test_a_made_up_link_is_refused(webtest, org):
    webtest("acme").get("/support/enter/" + "x" * 43, status=410)


def test_support_is_not_sent_to_enrol_a_second_factor(webtest, console, dbsession, org, member):
    # The member's phone is not the support user's: when the organisation
    # requires two-factor, support is not sent to enrol it.
    org.settings = {**org.settings, "two_factor": "require"}
    dbsession.flush()
    app = webtest("acme")
    app.get(enter_path(act_as(console, org, member)), status=303)
    app.get("/clients", status=200)
