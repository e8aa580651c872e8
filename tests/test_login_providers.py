"""The authentication-provider doors, tried through the keycard test plugin
(tests/plugins/keycard) as a single sign-on plugin would use them: its
button in the login page's ``login`` slot, its own login route ending in
``start_staff_session`` (a new session, the audit trail, two-factor
authentication, the tenant check), and ``consultroom_login_method`` refusing
or redirecting the password login; all of it absent for an organisation
without the plugin."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pyotp
import pytest
import time_machine
from consultroom_keycard import issue_code
from pyramid.scripting import prepare
from sqlalchemy import select

from consultroom.accounts.login import start_staff_session
from consultroom.accounts.models import Role, UserToken
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.plugins import enablement
from consultroom.secretbox import encrypt
from consultroom.sessions.store import ANONYMOUS, COOKIE
from consultroom.testing import PASSWORD, password_matches
from consultroom.twofactor.models import TwoFactor
from consultroom.web.sites import site_request

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2031, 2, 3, 10, 0, 15, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(make_organisation, enable_plugin):
    org = make_organisation("acme", name="Acme Clinic")
    enable_plugin(org, "keycard")
    return org


@pytest.fixture
def keycard(org, dbsession):
    """Set the keycard plugin's settings of ``org``."""

    def set_(**values):
        row = enablement(dbsession, org, "keycard")
        row.settings = {**(row.settings or {}), **values}
        dbsession.flush()

    return set_


@pytest.fixture
def doctor(org, make_user):
    return make_user(org, name="Dr Ada", email="ada@acme.example")


def keycard_form(page):
    return next(f for f in page.forms.values() if f.action == "/keycard/login")


def use_code(app, code, next_=None, status=303):
    page = app.get("/login" + (f"?next={next_}" if next_ else ""))
    form = keycard_form(page)
    form["code"] = code
    return form.submit(status=status)


def submit_password(app, email, password=PASSWORD, status=None):
    form = app.get("/login").forms[0]
    form["email"], form["password"] = email, password
    return form.submit(status=status)


def logged_in(app):
    return app.get("/profile", expect_errors=True).status_int == 200


def session_cookie(app):
    return app.cookies.get(COOKIE)


def entries(dbsession, org, *actions):
    return dbsession.scalars(
        select(AuditEntry)
        .where(AuditEntry.organisation_id == org.id, AuditEntry.action.in_(actions))
        .order_by(AuditEntry.id)
    ).all()


def enrol(dbsession, app, user):
    dbsession.add(
        TwoFactor(
            user_id=user.id,
            secret_encrypted=encrypt(SimpleNamespace(registry=app.registry), SECRET),
            confirmed_at=utcnow(),
        )
    )
    dbsession.flush()


# --- the login slot and the provider's route -------------------------------------------


def test_the_keycard_button_is_on_the_login_page_only_where_enabled(
    webtest, org, make_organisation
):
    make_organisation("plain")
    page = webtest("acme").get("/login")
    assert page.forms[0].action == "/login"  # the password form stays first
    assert keycard_form(page)["code"].value == ""
    plain = webtest("plain")
    page = plain.get("/login")
    assert "/keycard/login" not in page.text and "keycard" not in page.text
    plain.get("/keycard/login", status=404)
    plain.post("/keycard/login", {"code": "x"}, status=404)


def test_a_code_logs_in_with_a_new_session_and_is_recorded(webtest, org, doctor, dbsession):
    app = webtest("acme")
    code = issue_code(dbsession, doctor)
    app.get("/login")
    before = session_cookie(app)
    assert before.startswith(ANONYMOUS)  # the login page stored nothing
    response = use_code(app, code)
    assert response.location.endswith("/")
    assert logged_in(app)
    assert session_cookie(app) not in (None, before)
    [success] = entries(dbsession, org, "login.success")
    assert (success.object_id, success.user_name) == (str(doctor.id), "Dr Ada")
    assert success.detail == {"method": "keycard"}


def test_a_code_works_once(webtest, doctor, dbsession):
    code = issue_code(dbsession, doctor)
    use_code(webtest("acme"), code)
    again = webtest("acme")
    response = use_code(again, code).follow()
    assert "This keycard code does not work." in response.text
    assert not logged_in(again)


def test_a_code_works_for_ten_minutes(webtest, doctor, dbsession, clock):
    late, on_time = issue_code(dbsession, doctor), issue_code(dbsession, doctor)
    clock.shift(timedelta(minutes=9, seconds=59))
    use_code(webtest("acme"), on_time)
    clock.shift(timedelta(seconds=1))
    app = webtest("acme")
    assert "does not work" in use_code(app, late).follow().text
    assert not logged_in(app)


def test_the_next_page_is_kept_within_the_site(webtest, doctor, dbsession):
    app = webtest("acme")
    assert use_code(app, issue_code(dbsession, doctor), next_="/clients").location.endswith(
        "/clients"
    )
    app = webtest("acme")
    target = use_code(app, issue_code(dbsession, doctor), next_="//evil.example/").location
    assert target == "http://acme.consultroom.test/"


def test_an_administrator_issues_a_code_on_the_staff_members_page(
    webtest, org, doctor, make_user, login
):
    admin_app = webtest("acme")
    login(admin_app, make_user(org, role=Role.org_admin))
    page = admin_app.get(f"/staff/{doctor.id}")
    issue = next(f for f in page.forms.values() if f.action == f"/keycard/issue/{doctor.id}")
    shown = issue.submit(status=200)
    assert shown.headers["Cache-Control"] == "no-store"
    code = shown.html.select_one("code.keycard-code").text
    app = webtest("acme")
    use_code(app, code)
    assert "Dr Ada" in app.get("/profile").text
    # A practitioner issues nothing, not even for themselves.
    practitioner_app = webtest("acme")
    login(practitioner_app, doctor)
    practitioner_app.get(f"/staff/{doctor.id}", status=403)
    token = practitioner_app.get("/profile").forms[0]["csrf_token"].value
    practitioner_app.post(f"/keycard/issue/{doctor.id}", {"csrf_token": token}, status=403)


# --- the tenant check and inactive users ---------------------------------------------------


def test_another_organisations_code_does_not_work_here(
    webtest, org, make_organisation, enable_plugin, make_user, dbsession
):
    other = make_organisation("other")
    enable_plugin(other, "keycard")
    stranger = make_user(other, name="Stranger")
    code = issue_code(dbsession, stranger)
    app = webtest("acme")
    assert "does not work" in use_code(app, code).follow().text
    assert not logged_in(app)
    # Still unused at home.
    home = webtest("other")
    use_code(home, code)
    assert "Stranger" in home.get("/profile").text


def test_start_staff_session_refuses_another_organisations_user(
    app, org, make_organisation, make_user, dbsession
):
    stranger = make_user(make_organisation("other"))
    superuser = make_user(None, role=Role.superuser)
    with plugin_route(app) as request:
        response = start_staff_session(request, stranger, "sso:test")
        assert response.status_int == 403
        assert "This account cannot log in here." in response.text
        assert "user_id" not in request.session
        # Nor the console's superuser on an organisation's site.
        assert start_staff_session(request, superuser, "sso:test").status_int == 403
    refused = entries(dbsession, org, "login.refused")
    # Neither is this organisation's business.
    assert [(e.object_id, e.user_id) for e in refused] == [(None, None), (None, None)]
    assert refused[0].detail == {"method": "sso:test", "reason": "not of this site"}


@contextmanager
def plugin_route(app):
    """A request of acme's site, in its transaction, as a plugin's view has."""
    request = site_request(app.registry, "acme")
    env = prepare(request=request, registry=app.registry)
    try:
        with request.tm:
            yield request
    finally:
        env["closer"]()


def test_an_inactive_staff_member_is_refused(webtest, org, doctor, dbsession):
    code = issue_code(dbsession, doctor)
    doctor.active = False
    dbsession.flush()
    app = webtest("acme")
    refused = use_code(app, code, status=403)
    assert "This account cannot log in here." in refused.text
    assert not logged_in(app)
    [entry] = entries(dbsession, org, "login.refused")
    assert (entry.object_id, entry.detail["reason"]) == (str(doctor.id), "inactive")


# --- two-factor authentication -----------------------------------------------------------------


def test_a_code_is_a_first_factor_when_two_factor_is_on(
    webtest, app, org, doctor, dbsession, clock
):
    enrol(dbsession, app, doctor)
    web = webtest("acme")
    assert use_code(web, issue_code(dbsession, doctor)).location.endswith("/login/code")
    assert not logged_in(web)
    form = web.get("/login/code").forms[0]
    form["code"] = pyotp.TOTP(SECRET).now()
    form.submit(status=303)
    assert logged_in(web)
    actions = [e.action for e in entries(dbsession, org, "login.first_factor_ok", "login.success")]
    assert actions == ["login.first_factor_ok", "login.success"]


def test_where_two_factor_is_required_a_user_without_it_must_turn_it_on(
    webtest, org, doctor, dbsession
):
    org.settings = {"two_factor": "require"}
    dbsession.flush()
    web = webtest("acme")
    assert use_code(web, issue_code(dbsession, doctor)).location.endswith("/profile/two-factor")
    assert web.get("/clients", status=303).location.endswith("/profile/two-factor")


def test_a_provider_may_vouch_for_the_second_factor(webtest, app, org, doctor, keycard, dbsession):
    keycard(second_factor=True)
    org.settings = {"two_factor": "require"}
    dbsession.flush()
    web = webtest("acme")
    assert use_code(web, issue_code(dbsession, doctor)).location.endswith("/")
    web.get("/clients", status=200)  # not sent to turn two-factor on
    enrol(dbsession, app, doctor)
    other = webtest("acme")
    assert use_code(other, issue_code(dbsession, doctor)).location.endswith("/")
    assert logged_in(other)
    detail = entries(dbsession, org, "login.success")[-1].detail
    assert detail == {"method": "keycard", "second_factor": "keycard"}


# --- the password beside a provider ----------------------------------------------------------


def test_the_password_still_works_beside_the_provider(webtest, org, doctor, dbsession):
    app = webtest("acme")
    submit_password(app, doctor.email, status=303)
    assert logged_in(app)
    assert entries(dbsession, org, "login.success")[0].detail == {"method": "password"}


def test_the_provider_may_refuse_the_password(webtest, org, doctor, keycard, dbsession):
    keycard(password_login="refused")
    message = "Staff of this organisation log in with a keycard, not a password."
    app = webtest("acme")
    assert message in submit_password(app, doctor.email, status=200).text
    assert not logged_in(app)
    # The same answer for an address without an account.
    assert message in submit_password(app, "nobody@acme.example", status=200).text
    refused = entries(dbsession, org, "login.refused")
    assert [(e.object_id, e.detail["reason"]) for e in refused] == [
        (str(doctor.id), "login provider"),
        (None, "login provider"),
    ]
    # The keycard works, and the password does on a site without the plugin.
    use_code(app, issue_code(dbsession, doctor))
    assert logged_in(app)


def test_the_refusal_counts_towards_the_rate_limit(webtest, doctor, keycard, app, monkeypatch):
    keycard(password_login="refused")
    monkeypatch.setitem(app.registry.settings, "ratelimit.login_account.max", "2")
    web = webtest("acme")
    for _ in range(2):
        submit_password(web, doctor.email, status=200)
    assert "Too many" in submit_password(web, doctor.email, status=200).text


def test_the_provider_may_send_the_password_login_to_its_own_page(
    webtest, doctor, keycard, dbsession
):
    keycard(password_login="keycard_page")
    app = webtest("acme")
    page = app.get("/login?next=/clients")
    page.forms[0]["email"], page.forms[0]["password"] = doctor.email, PASSWORD
    sent = page.forms[0].submit(status=303)
    assert sent.location.endswith("/keycard/login?next=%2Fclients")
    assert not logged_in(app)
    form = keycard_form(sent.follow())
    form["code"] = issue_code(dbsession, doctor)
    assert form.submit(status=303).location.endswith("/clients")


def test_the_password_works_where_the_plugin_is_off(
    webtest, org, doctor, keycard, enable_plugin, dbsession
):
    keycard(password_login="refused")
    enable_plugin(org, "keycard", enabled=False)
    app = webtest("acme")
    submit_password(app, doctor.email, status=303)
    assert logged_in(app)
    assert "keycard" not in webtest("acme").get("/login").text


def test_a_password_link_is_refused_too_where_the_provider_says_so(
    webtest, doctor, keycard, dbsession
):
    keycard(password_login="refused")
    token, secret = UserToken.issue(doctor, "reset", timedelta(hours=1))
    dbsession.add(token)
    dbsession.flush()
    app = webtest("acme")
    form = app.get(f"/set-password/{secret}").forms[0]
    form["password"] = form["confirm"] = "a new long password"
    assert "log in with a keycard" in form.submit(status=200).text
    assert not logged_in(app)
    dbsession.refresh(doctor)
    assert password_matches(doctor, PASSWORD)  # not changed
