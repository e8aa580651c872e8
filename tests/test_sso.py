"""The single sign-on plugin (plugins/sso) with OpenID Connect, against a
local provider built with authlib's server classes (tests/sso_provider.py)
on 127.0.0.1: "Configure SSO" for organisation admins (validation, the
secret kept encrypted and never shown back, tenant scoping), the login
through the provider ending in the same session as a password, users
matched by subject or created at login (within the package), every refused
answer with its page and audit entry, linking from the profile, password
logins refused where a connection says so, and nothing of it where the
plugin is off."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pyotp
import pytest
import requests
import time_machine
from consultroom_sso.connections import ConnectionForm
from consultroom_sso.models import Connection, Identity, Kind, PendingLogin
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from consultroom.accounts.models import Role, User
from consultroom.db import utcnow
from consultroom.jobs import run_due
from consultroom.secretbox import encrypt, secret_box
from consultroom.sessions.store import COOKIE
from consultroom.testing import PASSWORD
from consultroom.twofactor.models import TwoFactor

from sso_provider import CLIENT_ID, CLIENT_SECRET, Provider, redirect_target
from sso_support import ada, entries, link, logged_in, org_admin, organisation, refusals

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
def provider():
    running = Provider().start()
    yield running
    running.stop()


@pytest.fixture
def op(provider):
    provider.person = {
        "sub": "subject-ada",
        "email": "ada@acme.example",
        "email_verified": True,
        "name": "Ada Lovelace",
        "hd": "acme.example",
        "tid": "tenant-acme",
    }
    provider.tamper = None
    return provider


@pytest.fixture
def org(make_organisation, enable_plugin, dbsession):
    return organisation(make_organisation, enable_plugin, dbsession)


@pytest.fixture
def doctor(org, make_user):
    return ada(org, make_user)


@pytest.fixture
def admin(org, make_user):
    return org_admin(org, make_user)


@pytest.fixture
def connect(app, org, op, dbsession):
    """A connection of ``org`` to the test provider."""

    def make(organisation=None, **values):
        fields = {
            "name": "Acme ID",
            "button_text": "Log in with Acme ID",
            "kind": Kind.oidc,
            "role": Role.practitioner,
            "issuer": op.issuer,
            "client_id": CLIENT_ID,
            "client_secret": secret_box(app.registry).encrypt(CLIENT_SECRET.encode()),
            **values,
        }
        connection = Connection(organisation_id=(organisation or org).id, **fields)
        dbsession.add(connection)
        dbsession.flush()
        return connection

    return make


def to_provider(app, connection, next_=None):
    """Click the connection's button on the login page: the redirect to the provider."""
    page = app.get("/login" + (f"?next={next_}" if next_ else ""))
    button = page.html.find("a", string=connection.button_text)
    assert button is not None, page.text
    return app.get(button["href"], status=303)


def through_provider(start):
    """The provider logs the person in and sends the browser back: that address."""
    answer = requests.get(start.location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return redirect_target(answer)


def sso_login(app, connection, next_=None, status=None):
    back = through_provider(to_provider(app, connection, next_))
    return app.get(back, status=status or "*")


# --- logging in -------------------------------------------------------------------------


def test_a_linked_staff_member_logs_in_through_the_provider(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect()
    link(dbsession, connection, doctor)
    app = webtest("acme")
    start = to_provider(app, connection, "/clients")
    before = app.cookies[COOKIE]  # the session that holds the login under way
    response = app.get(through_provider(start), status=303)
    assert response.location.endswith("/clients")
    assert logged_in(app)
    assert app.cookies[COOKIE] != before  # a new session id, as after a password
    [success] = entries(dbsession, org, "login.success")
    assert (success.object_id, success.detail) == (
        str(doctor.id),
        {"method": f"sso:{connection.id}"},
    )
    # PKCE with S256, a state and a nonce; the code went back with its verifier.
    asked = op.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 43 and len(asked["nonce"]) >= 43
    assert len(op.token_requests[-1]["code_verifier"]) >= 43


def test_the_provider_s_keys_are_cached_and_fetched_again_for_a_new_key_id(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect()
    link(dbsession, connection, doctor)
    with time_machine.travel(utcnow().timestamp() + 3 * 3600, tick=True) as clock:
        assert sso_login(webtest("acme"), connection).status_int == 303
        fetched = op.jwks_fetches
        assert sso_login(webtest("acme"), connection).status_int == 303
        assert op.jwks_fetches == fetched  # cached
        op.rotate()
        clock.shift(61)
        assert sso_login(webtest("acme"), connection).status_int == 303  # new kid: fetched again
        assert op.jwks_fetches == fetched + 1


def test_a_staff_member_with_two_factor_enters_their_code_after_the_provider(
    webtest, app, org, connect, doctor, dbsession
):
    connection = connect()
    link(dbsession, connection, doctor)
    dbsession.add(
        TwoFactor(
            user_id=doctor.id,
            secret_encrypted=encrypt(SimpleNamespace(registry=app.registry), TOTP_SECRET),
            confirmed_at=utcnow(),
        )
    )
    dbsession.flush()
    web = webtest("acme")
    assert sso_login(web, connection, status=303).location.endswith("/login/code")
    assert not logged_in(web)
    form = web.get("/login/code").forms[0]
    form["code"] = pyotp.TOTP(TOTP_SECRET).now()
    form.submit(status=303)
    assert logged_in(web)


def test_the_provider_s_mfa_counts_only_where_the_connection_accepts_it(
    webtest, org, op, connect, doctor, dbsession
):
    org.settings = {"two_factor": "require"}
    connection = connect()
    link(dbsession, connection, doctor)
    op.person["amr"] = ["pwd", "mfa"]
    web = webtest("acme")
    sso_login(web, connection, status=303)
    assert web.get("/clients", status=303).location.endswith("/profile/two-factor")

    connection.accept_mfa = True
    dbsession.flush()
    web = webtest("acme")
    assert sso_login(web, connection, status=303).location.endswith("/")
    web.get("/clients", status=200)
    detail = entries(dbsession, org, "login.success")[-1].detail
    assert detail == {"method": f"sso:{connection.id}", "second_factor": f"sso:{connection.id}"}

    op.person["amr"] = ["pwd"]  # no second factor at the provider: the policy applies
    web = webtest("acme")
    sso_login(web, connection, status=303)
    assert web.get("/clients", status=303).location.endswith("/profile/two-factor")


# --- users created at login ---------------------------------------------------------------


def test_a_user_is_created_at_login_with_the_connection_s_role_and_department(
    webtest, org, op, connect, dbsession
):
    gp = org.departments[0]
    connection = connect(create_users=True, role=Role.dept_admin, department_id=gp.id)
    op.person.update(sub="subject-new", email="New.Person@Acme.example", name="New Person")
    web = webtest("acme")
    assert sso_login(web, connection, status=303).location.endswith("/")
    assert logged_in(web)
    user = dbsession.scalar(select(User).where(User.email == "new.person@acme.example"))
    assert (user.name, user.role, user.department_id, user.password_hash) == (
        "New Person",
        Role.dept_admin,
        gp.id,
        None,
    )
    identity = dbsession.scalar(select(Identity).where(Identity.user_id == user.id))
    assert (identity.connection_id, identity.subject) == (connection.id, "subject-new")
    [created] = entries(dbsession, org, "sso.user_created")
    assert created.object_id == str(user.id)
    # The next login finds them by subject, whatever the address says now.
    op.person["email"] = "renamed@acme.example"
    sso_login(webtest("acme"), connection, status=303)
    assert dbsession.scalar(select(func.count()).select_from(User)) == 1


def test_no_user_is_created_when_the_package_is_full(webtest, org, op, connect, doctor, dbsession):
    org.max_users = 1
    connection = connect(create_users=True)
    op.person.update(sub="subject-new", email="new@acme.example")
    web = webtest("acme")
    page = sso_login(web, connection, status=403)
    assert "Your package allows 1 active staff members and all are in use." in page.text
    assert not logged_in(web)
    assert dbsession.scalar(select(User).where(User.email == "new@acme.example")) is None
    assert refusals(dbsession, org) == ["package_full"]


def test_no_user_is_created_without_the_setting_nor_for_an_address_with_an_account(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect(create_users=False)
    op.person.update(sub="subject-new", email="new@acme.example")
    page = sso_login(webtest("acme"), connection, status=403)
    assert "is not linked to a staff account here" in page.text
    # Someone with the doctor's address is not taken for the doctor: subjects, not addresses.
    connection.create_users = True
    dbsession.flush()
    op.person.update(sub="subject-other", email=doctor.email)
    web = webtest("acme")
    assert "is not linked to a staff account here" in sso_login(web, connection, status=403).text
    assert not logged_in(web)
    assert refusals(dbsession, org) == ["not_linked", "email_taken"]


def test_no_user_is_created_without_a_verified_address(webtest, org, op, connect, dbsession):
    connection = connect(create_users=True)
    op.person.update(sub="subject-new", email="new@acme.example", email_verified=False)
    page = sso_login(webtest("acme"), connection, status=403)
    assert "did not give a verified e-mail address" in page.text
    assert refusals(dbsession, org) == ["no_verified_email"]


# --- answers refused, each with a page and an audit entry ------------------------------


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header, claims):
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(provider, header, claims):
    """HS256 "signed" with the provider's RSA public key as the HMAC secret
    (the algorithm confusion attack, CVE-2024-37568)."""
    public_pem = provider.key.as_pem(private=False)
    signing_input = (
        f"{_b64(json.dumps({**header, 'alg': 'HS256'}).encode())}."
        f"{_b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _resigned(**changes):
    def tamper(provider, header, claims):
        claims.update(changes)
        return provider.sign(header, {k: v for k, v in claims.items() if v is not None})

    return tamper


EXPIRED = _resigned(exp=1_600_000_000, iat=1_599_990_000)
ANSWERS = {
    "expired": (EXPIRED, "token_expired", "The login took too long"),
    "wrong_audience": (
        _resigned(aud=["someone-else"]),
        "claim_invalid:aud",
        "could not be verified",
    ),
    "wrong_issuer": (
        _resigned(iss="http://127.0.0.1:1"),
        "claim_invalid:iss",
        "could not be verified",
    ),
    "another_party_authorised": (
        _resigned(aud=[CLIENT_ID, "someone-else"], azp="someone-else"),
        "claim_invalid:azp",
        "could not be verified",
    ),
    "nonce_missing": (_resigned(nonce=None), "claim_missing:nonce", "could not be verified"),
    "alg_none": (
        lambda p, h, c: _unsigned({**h, "alg": "none"}, c),
        "algorithm_refused",
        "could not be verified",
    ),
    "hs256_public_key": (
        lambda p, h, c: _hs256_with_public_key(p, h, c),
        "algorithm_refused",
        "could not be verified",
    ),
    "signed_by_another_key": (
        lambda p, h, c: p.sign(h, c, key=RSAKey.generate_key(2048, parameters={"kid": h["kid"]})),
        "bad_signature",
        "could not be verified",
    ),
}


@pytest.mark.parametrize("answer", ANSWERS, ids=list(ANSWERS))
def test_a_bad_id_token_is_refused(webtest, org, op, connect, doctor, dbsession, answer):
    tamper, reason, message = ANSWERS[answer]
    connection = connect()
    link(dbsession, connection, doctor)
    op.tamper = tamper
    web = webtest("acme")
    page = sso_login(web, connection, status=403)
    assert message in page.text and "Back to the login page" in page.text
    assert not logged_in(web)
    assert refusals(dbsession, org) == [reason]
    assert entries(dbsession, org, "login.success") == []


def test_a_replayed_nonce_is_refused(webtest, org, op, connect, doctor, dbsession):
    connection = connect()
    link(dbsession, connection, doctor)
    sso_login(webtest("acme"), connection, status=303)
    earlier = op.authorize_requests[-1]["nonce"]
    op.tamper = _resigned(nonce=earlier)
    web = webtest("acme")
    assert "could not be verified" in sso_login(web, connection, status=403).text
    assert not logged_in(web)
    assert refusals(dbsession, org) == ["claim_invalid:nonce"]


def test_the_state_works_once_in_the_browser_that_started_it(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect()
    link(dbsession, connection, doctor)
    web = webtest("acme")
    back = through_provider(to_provider(web, connection))
    # Carried into another browser (login CSRF): refused, and used up.
    other = webtest("acme")
    other.get("/login")
    assert "already used, has expired or was started elsewhere" in other.get(back, status=403)
    assert web.get(back, status=403)
    # A fresh login, then its answer replayed: refused.
    back = through_provider(to_provider(web, connection))
    web.get(back, status=303)
    replay = webtest("acme")
    assert "already used" in replay.get(back, status=403).text
    # No state at all.
    without_state = "&".join(p for p in back.split("?")[1].split("&") if not p.startswith("state="))
    assert "already used" in webtest("acme").get(
        f"{back.split('?')[0]}?{without_state}", status=403
    )
    assert refusals(dbsession, org) == ["state_invalid"] * 4


def test_the_state_expires_after_ten_minutes(webtest, org, op, connect, doctor, dbsession):
    connection = connect()
    link(dbsession, connection, doctor)
    web = webtest("acme")
    with time_machine.travel(utcnow().timestamp() + 6 * 3600, tick=True) as clock:
        back = through_provider(to_provider(web, connection))
        clock.shift(601)
        web.get(back, status=403)
    assert refusals(dbsession, org) == ["state_invalid"]


def test_google_accounts_of_another_domain_are_refused(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect(kind=Kind.google, allowed_domains="acme.example, acme-care.example")
    link(dbsession, connection, doctor)
    op.person["hd"] = "acme-care.example"
    assert sso_login(webtest("acme"), connection, status=303)
    assert op.authorize_requests[-1].get("hd") is None  # two domains: no hint, the token decides
    for domain in ("evil.example", None):
        op.person["hd"] = domain
        web = webtest("acme")
        page = sso_login(web, connection, status=403)
        assert "Accounts of this Google domain cannot log in here" in page.text
        assert not logged_in(web)
    assert refusals(dbsession, org) == ["domain_not_allowed", "domain_not_allowed"]


def test_microsoft_accounts_of_another_tenant_are_refused(
    webtest, org, op, connect, doctor, dbsession
):
    connection = connect(kind=Kind.microsoft, allowed_tenants="tenant-acme")
    link(dbsession, connection, doctor)
    assert sso_login(webtest("acme"), connection, status=303)
    op.person["tid"] = "tenant-other"
    web = webtest("acme")
    page = sso_login(web, connection, status=403)
    assert "Accounts of this Microsoft organisation cannot log in here" in page.text
    assert refusals(dbsession, org) == ["tenant_not_allowed"]


def test_an_error_from_the_provider_is_refused(webtest, org, op, connect, doctor, dbsession):
    connection = connect()
    web = webtest("acme")
    start = to_provider(web, connection)
    state = dict(parse_qsl(urlsplit(start.location).query))["state"]
    page = web.get(f"/sso/{connection.id}/callback?state={state}&error=access_denied", status=403)
    assert "did not log you in" in page.text
    assert refusals(dbsession, org) == ["provider_error"]


# --- linking from the profile ---------------------------------------------------------------


def test_a_staff_member_links_their_account_once_from_the_profile(
    webtest, login, org, op, connect, doctor, dbsession
):
    connection = connect()
    web = webtest("acme")
    login(web, doctor)
    profile = web.get("/profile")
    form = next(f for f in profile.forms.values() if f.action == f"/sso/{connection.id}/link")
    start = form.submit(status=303)
    back = web.get(through_provider(start), status=303)
    assert back.location.endswith("/profile")
    profile = back.follow()
    assert "Your account is linked" in profile.text and "Linked to Acme ID." in profile.text
    assert not any(f.action.endswith("/link") for f in profile.forms.values())
    identity = dbsession.scalar(select(Identity).where(Identity.user_id == doctor.id))
    assert (identity.connection_id, identity.subject) == (connection.id, "subject-ada")
    assert [e.object_id for e in entries(dbsession, org, "sso.linked")] == [str(doctor.id)]
    # Once: a second link is refused.
    web.post(f"/sso/{connection.id}/link", {"csrf_token": form["csrf_token"].value}, status=403)
    # Now the provider logs the doctor in.
    fresh = webtest("acme")
    sso_login(fresh, connection, status=303)
    assert logged_in(fresh)


def test_a_subject_linked_to_someone_else_is_not_linked_again(
    webtest, login, org, op, connect, doctor, make_user, dbsession
):
    connection = connect()
    link(dbsession, connection, doctor)
    nurse = make_user(org, name="Nurse", email="nurse@acme.example")
    web = webtest("acme")
    login(web, nurse)
    csrf = web.get("/profile").forms[0]["csrf_token"].value
    start = web.post(f"/sso/{connection.id}/link", {"csrf_token": csrf}, status=303)
    page = web.get(through_provider(start), status=403)
    assert "linked to a staff member already" in page.text
    assert refusals(dbsession, org) == ["subject_taken"]


def test_linking_needs_a_login_and_the_csrf_token(webtest, login, org, connect, doctor):
    connection = connect()
    web = webtest("acme")
    web.post(f"/sso/{connection.id}/link", status="4*")
    login(web, doctor)
    web.post(f"/sso/{connection.id}/link", status=400)


# --- password logins ------------------------------------------------------------------------------


def submit_password(app, email):
    form = app.get("/login").forms[0]
    form["email"], form["password"] = email, PASSWORD
    return form.submit()


def test_a_connection_may_turn_password_logins_off_until_the_plugin_is_disabled(
    webtest, org, op, connect, doctor, enable_plugin, dbsession
):
    connection = connect(password_login=False)
    link(dbsession, connection, doctor)
    message = "Staff of this organisation log in with single sign-on"
    web = webtest("acme")
    assert message in submit_password(web, doctor.email).text
    assert not logged_in(web)
    assert message in submit_password(web, "nobody@acme.example").text  # alike for everyone
    sso_login(web, connection, status=303)
    assert logged_in(web)
    # A disabled connection forbids nothing, and shows no button.
    connection.enabled = False
    dbsession.flush()
    web = webtest("acme")
    assert "Log in with Acme ID" not in web.get("/login").text
    web.get(f"/sso/{connection.id}/login", status=403)
    assert submit_password(web, doctor.email).status_int == 303
    # The plugin switched off: the password works, the button and the routes are gone.
    connection.enabled = True
    enable_plugin(org, "sso", enabled=False)
    web = webtest("acme")
    assert "Log in with Acme ID" not in web.get("/login").text
    for path in ("login", "callback"):
        web.get(f"/sso/{connection.id}/{path}", status=404)
    assert submit_password(web, doctor.email).status_int == 303
    assert logged_in(web)


# --- "Configure SSO" --------------------------------------------------------------------------


def admin_app(webtest, login, admin):
    web = webtest("acme")
    login(web, admin)
    return web


def fill(form, **values):
    for name, value in values.items():
        form[name] = value
    return form


def test_an_organisation_admin_adds_a_connection_with_clear_errors(
    webtest, login, org, op, admin, app, dbsession
):
    web = admin_app(webtest, login, admin)
    assert 'href="/sso/connections"' in web.get("/").text  # "Configure SSO" in the menu
    page = web.get("/sso/connections").click("Add connection")
    legends = [legend.text for legend in page.html.select("fieldset legend")]
    assert legends == [
        "Connection",
        "OpenID Connect (Google, Microsoft, others)",
        "SAML 2.0",
        "Staff",
    ]
    fields = {name for name, f in vars(ConnectionForm).items() if isinstance(f, UnboundField)}
    assert {field.get("name") for field in page.html.select("fieldset [name]")} == fields
    form = page.forms[1]
    fill(
        form,
        name="Acme Google",
        button_text="Log in with Google",
        kind="google",
        client_id="id.apps.googleusercontent.com",
        issuer="http://idp.example",
        role="dept_admin",
    )
    page = form.submit(status=200)
    errors = [e.text for e in page.html.select(".error")]
    assert errors == [
        "Enter the issuer's https:// address.",
        "Enter the client secret the provider gave you.",
        "Name the Google domain (or domains) whose accounts may log in.",
        "A department admin needs a department: choose one.",
    ]
    assert dbsession.scalar(select(func.count()).select_from(Connection)) == 0
    form = page.forms[1]
    fill(
        form,
        issuer="",
        client_secret="the-secret-value",
        allowed_domains="Acme.example , acme-care.example,",
        role="practitioner",
        create_users=True,
    )
    assert form.submit(status=303).follow().html.find("a", string="Acme Google")
    connection = dbsession.scalar(select(Connection))
    assert connection.issuer == "https://accounts.google.com"
    assert connection.allowed_domains == "acme.example, acme-care.example"
    assert b"the-secret-value" not in connection.client_secret
    assert secret_box(app.registry).decrypt(connection.client_secret) == b"the-secret-value"
    # Never shown back; an empty field keeps it.
    edit = web.get(f"/sso/connections/{connection.id}")
    assert "the-secret-value" not in edit.text
    assert f"http://acme.consultroom.test/sso/{connection.id}/callback" in edit.text
    form = edit.forms[1]
    assert form["client_secret"].value == ""
    form["button_text"] = "Google"
    form.submit(status=303)
    dbsession.refresh(connection)
    assert connection.button_text == "Google"
    assert secret_box(app.registry).decrypt(connection.client_secret) == b"the-secret-value"
    saved = entries(dbsession, org, "sso.connection_saved")
    assert [e.detail["secret_changed"] for e in saved] == [True, False]
    assert "the-secret-value" not in json.dumps([e.detail for e in saved])
    assert saved[1].detail["changed"] == {"button_text": "Google"}


def test_microsoft_needs_a_tenant_and_other_providers_an_issuer(
    webtest, login, org, admin, dbsession
):
    web = admin_app(webtest, login, admin)
    form = fill(
        web.get("/sso/connections/new").forms[1],
        name="MS",
        button_text="Microsoft",
        kind="microsoft",
        client_id="x",
        client_secret="y",
    )
    assert "Name the Microsoft tenant id" in form.submit(status=200).text
    form = fill(
        web.get("/sso/connections/new").forms[1],
        name="Other",
        button_text="Other",
        kind="oidc",
        client_id="x",
        client_secret="y",
    )
    assert "Enter the issuer of this provider." in form.submit(status=200).text
    form = web.get("/sso/connections/new").forms[1]
    form["name"] = "x" * 101
    page = form.submit(status=200)
    assert "Field cannot be longer than 100 characters." in page.text
    assert dbsession.scalar(select(func.count()).select_from(Connection)) == 0


def test_connections_are_the_organisation_s_own(
    webtest, login, org, admin, connect, make_organisation, make_user, enable_plugin, dbsession
):
    other = make_organisation("other")
    enable_plugin(other, "sso")
    theirs = connect(organisation=other, name="Theirs", button_text="Log in with Theirs")
    mine = connect()
    web = admin_app(webtest, login, admin)
    listing = web.get("/sso/connections").text
    assert "Acme ID" in listing and "Theirs" not in listing
    csrf = web.get("/profile").forms[0]["csrf_token"].value
    web.get(f"/sso/connections/{theirs.id}", status=404)
    web.post(f"/sso/connections/{theirs.id}", {"csrf_token": csrf, "name": "x"}, status=404)
    web.post(f"/sso/connections/{theirs.id}/delete", {"csrf_token": csrf}, status=404)
    anonymous = webtest("acme")
    anonymous.get(f"/sso/{theirs.id}/login", status=404)
    anonymous.get(f"/sso/{theirs.id}/callback?state=x&code=y", status=404)
    assert "Log in with Theirs" not in anonymous.get("/login").text
    assert dbsession.get(Connection, theirs.id).name == "Theirs"
    # Deleting one's own; its users keep their accounts.
    web.post(f"/sso/connections/{mine.id}/delete", status=400)  # no CSRF token
    web.post(f"/sso/connections/{mine.id}/delete", {"csrf_token": csrf}, status=303)
    assert dbsession.scalar(select(Connection.id).where(Connection.id == mine.id)) is None
    assert [e.object_id for e in entries(dbsession, org, "sso.connection_deleted")] == [
        str(mine.id)
    ]


def test_only_organisation_admins_configure_and_only_where_the_plugin_is_on(
    webtest, login, org, admin, doctor, enable_plugin
):
    web = webtest("acme")
    login(web, doctor)
    web.get("/sso/connections", status=403)
    assert 'href="/sso/connections"' not in web.get("/").text
    enable_plugin(org, "sso", enabled=False)
    web = admin_app(webtest, login, admin)
    web.get("/sso/connections", status=404)
    web.get("/sso/connections/new", status=404)
    assert 'href="/sso/connections"' not in web.get("/").text


def test_the_worker_forgets_logins_never_finished(app, webtest, org, op, connect, dbsession):
    connection = connect()
    for _ in range(2):
        to_provider(webtest("acme"), connection)  # started, never back
    assert dbsession.scalar(select(func.count()).select_from(PendingLogin)) == 2
    later = utcnow() + timedelta(minutes=11)
    assert run_due(app.registry, now=later)["sso.forget_expired"] == 0  # not expired yet
    with time_machine.travel(later.replace(tzinfo=UTC)):
        assert run_due(app.registry, now=later + timedelta(hours=1))["sso.forget_expired"] == 2
    dbsession.expire_all()
    assert dbsession.scalar(select(func.count()).select_from(PendingLogin)) == 0


def test_an_organisation_admin_links_and_unlinks_a_staff_member(
    webtest, login, org, op, admin, doctor, connect, make_user, make_organisation, dbsession
):
    connection = connect()
    web = webtest("acme")
    login(web, admin)
    page = web.get(f"/staff/{doctor.id}")
    form = next(f for f in page.forms.values() if f.action == f"/sso/staff/{doctor.id}/link")
    form["subject"] = ""
    assert "Enter the staff member" in form.submit(status=303).follow().text
    form["subject"] = "subject-ada"
    page = form.submit(status=303).follow()
    assert "Linked to Acme ID as subject-ada." in page.text
    assert [e.detail for e in entries(dbsession, org, "sso.linked")] == [
        {"connection": connection.id, "by_admin": True}
    ]
    fresh = webtest("acme")
    sso_login(fresh, connection, status=303)
    assert logged_in(fresh)
    # The same subject for someone else is refused; unlinking ends it.
    nurse = make_user(org, email="nurse@acme.example")
    csrf = form["csrf_token"].value
    params = {"csrf_token": csrf, "connection": connection.id, "subject": "subject-ada"}
    refused = web.post(f"/sso/staff/{nurse.id}/link", params, status=303).follow()
    assert "This subject is linked to another staff member." in refused.text
    unlink = next(f for f in page.forms.values() if f.action == f"/sso/staff/{doctor.id}/unlink")
    unlink.submit(status=303)
    assert dbsession.scalar(select(func.count()).select_from(Identity)) == 0
    assert len(entries(dbsession, org, "sso.unlinked")) == 1
    # Another organisation's staff member or connection: 404.
    other = make_organisation("other")
    stranger = make_user(other, email="x@other.example")
    web.post(f"/sso/staff/{stranger.id}/link", params, status=404)
    theirs = connect(organisation=other)
    web.post(f"/sso/staff/{nurse.id}/link", {**params, "connection": theirs.id}, status=404)
    # Practitioners do not link anyone.
    practitioner = webtest("acme")
    login(practitioner, nurse)
    practitioner.post(f"/sso/staff/{nurse.id}/link", params, status=403)


def test_a_provider_whose_endpoints_are_not_https_is_refused(webtest, org, connect, dbsession):
    other = Provider().start()  # its own issuer: nothing of it is cached yet
    try:
        other.discovery_changes = {"token_endpoint": "http://idp.example/token"}
        connection = connect(issuer=other.issuer)
        page = webtest("acme").get("/login")
        href = page.html.find("a", string=connection.button_text)["href"]
        assert "cannot be reached just now" in webtest("acme").get(href, status=403)
        assert refusals(dbsession, org) == ["discovery_invalid"]
    finally:
        other.stop()


def test_answers_that_fail_are_rate_limited_per_address(
    webtest, app, org, op, connect, doctor, dbsession, monkeypatch
):
    monkeypatch.setitem(app.registry.settings, "ratelimit.sso_address.max", "2")
    connection = connect()
    link(dbsession, connection, doctor)
    web = webtest("acme")
    assert sso_login(web, connection, status=303)  # a good answer counts nothing
    for _ in range(2):
        web.get(f"/sso/{connection.id}/callback?state=forged&code=x", status=403)
    fresh = webtest("acme")
    page = sso_login(fresh, connection, status=429)  # even a good answer, now
    assert "Too many failed attempts" in page.text
    assert not logged_in(fresh)
    assert refusals(dbsession, org) == ["state_invalid", "state_invalid", "rate_limited"]


def test_microsoft_s_issuer_names_the_token_s_own_tenant(webtest, org, connect, doctor, dbsession):
    """Microsoft's multi-tenant discovery names the issuer with {tenantid}
    left open: the token's issuer must be that with the token's own tid."""
    microsoft = Provider().start()  # its own issuer: nothing of it is cached yet
    try:
        template = microsoft.issuer + "/{tenantid}/v2.0"
        microsoft.discovery_changes = {"issuer": template}
        microsoft.person = {"sub": "subject-ada", "tid": "tenant-acme"}
        connection = connect(
            kind=Kind.microsoft, issuer=microsoft.issuer, allowed_tenants="tenant-acme"
        )
        link(dbsession, connection, doctor)
        for tenant, status in (("tenant-acme", 303), ("tenant-other", 403)):
            issuer = template.replace("{tenantid}", tenant)
            microsoft.tamper = _resigned(iss=issuer)
            assert sso_login(webtest("acme"), connection).status_int == status
        assert refusals(dbsession, org) == ["claim_invalid:iss"]
    finally:
        microsoft.stop()


def test_a_provider_that_refuses_the_code_or_cannot_be_reached(
    webtest, app, org, op, connect, doctor, dbsession
):
    wrong_secret = secret_box(app.registry).encrypt(b"not-the-secret")
    connection = connect(client_secret=wrong_secret)  # the token endpoint refuses the code
    link(dbsession, connection, doctor)
    assert "could not be verified" in sso_login(webtest("acme"), connection, status=403)
    unreachable = connect(name="Gone", button_text="Log in with Gone", issuer="http://127.0.0.1:9")
    page = webtest("acme").get(f"/sso/{unreachable.id}/login", status=403)
    assert "cannot be reached just now" in page.text
    assert refusals(dbsession, org) == ["code_refused", "provider_unreachable"]
