"""Two-factor authentication: enrolment with a QR code, the second step of
logging in, codes accepted once with at most one step of drift, recovery
codes, the lockout, the organisation's "allow" and "require" settings, and
an administrator switching it off for a lost phone."""

import re
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import time_machine
from cryptography.fernet import Fernet, InvalidToken
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from consultroom.accounts.models import Role, UserToken
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.secretbox import SETTING, box_from_settings, encrypt
from consultroom.tenancy.models import Department
from consultroom.testing import PASSWORD
from consultroom.twofactor import service
from consultroom.twofactor.models import RecoveryCode, TwoFactor

# The middle of a 30-second step, so that "now" stays in it while a test runs.
START = datetime(2030, 5, 1, 9, 0, 15, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


def form_to(page, action):
    return next(f for f in page.forms.values() if f.action == action)


def secret_on(page):
    return re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)[1].replace(" ", "")


def code_at(secret, steps_from_now=0):
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


def enrol(app):
    """Turn two-factor authentication on for the logged-in user: the secret
    and the recovery codes."""
    page = app.get("/profile/two-factor")
    secret = secret_on(page)
    form = form_to(page, "/profile/two-factor")
    form["code"] = code_at(secret)
    codes_page = form.submit(status=200)
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", codes_page.text)
    return secret, codes


def submit_password(app, user, next_=""):
    form = app.get("/login" + (f"?next={next_}" if next_ else "")).forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    return form.submit(status=303)


def submit_code(app, code, status=None):
    form = app.get("/login/code").forms[0]
    form["code"] = code
    return form.submit(status=status)


def log_out(app):
    form_to(app.get("/profile"), "/logout").submit(status=303)


def logged_in(app):
    return app.get("/profile", expect_errors=True).status_int == 200


def audited(dbsession, user):
    """The two-factor actions recorded about ``user``."""
    return dbsession.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_id == str(user.id), AuditEntry.action.startswith("two_factor."))
        .order_by(AuditEntry.id)
    ).all()


KNOWN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def enrol_directly(app, dbsession):
    """Give a user a confirmed authenticator with KNOWN_SECRET, without the pages."""

    def enrol_(user):
        request = SimpleNamespace(registry=app.registry)
        dbsession.add(
            TwoFactor(
                user_id=user.id,
                secret_encrypted=encrypt(request, KNOWN_SECRET),
                confirmed_at=utcnow(),
            )
        )
        dbsession.flush()

    return enrol_


@pytest.fixture
def enrolled(webtest, org, make_user, login, clock):
    """A practitioner with two-factor authentication on, logged out again;
    the clock has moved on a few time steps (so the previous one is unused)."""
    user = make_user(org, name="Dr Ada")
    app = webtest("acme")
    login(app, user)
    secret, codes = enrol(app)
    log_out(app)
    clock.shift(3 * 30)
    return SimpleNamespace(user=user, app=app, secret=secret, codes=codes)


# --- enrolment ---------------------------------------------------------------


def test_enrol_with_qr_code_confirm_and_recovery_codes(
    webtest, org, make_user, login, clock, dbsession
):
    user = make_user(org)
    web = webtest("acme")
    login(web, user)
    assert "/profile/two-factor" in web.get("/profile").text

    page = web.get("/profile/two-factor")
    assert page.headers["Cache-Control"] == "no-store"
    assert "<svg" in page.text and "<path" in page.text  # drawn here, no QR service
    secret = secret_on(page)
    assert len(secret) == 32

    form = form_to(page, "/profile/two-factor")
    form["code"] = "000000" if code_at(secret) != "000000" else "111111"
    assert "This code is not right" in form.submit(status=200).text
    assert not service.is_enabled(dbsession, user)

    form["code"] = code_at(secret)
    codes_page = form.submit(status=200)
    assert codes_page.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", codes_page.text)
    assert len(codes) == 10 and len(set(codes)) == 10

    row = dbsession.get(TwoFactor, user.id)
    assert row.confirmed
    assert secret not in row.secret_encrypted  # encrypted at rest
    hashes = dbsession.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    ).all()
    assert len(hashes) == 10 and not set(hashes) & set(codes)
    # Now on: the profile says so, and enrolling again is not offered.
    assert "Recovery codes left: 10" in web.get("/profile").text
    assert web.get("/profile/two-factor", status=303).location.endswith("/profile")
    assert audited(dbsession, user) == ["two_factor.enabled"]


def test_the_qr_code_names_the_organisation_as_issuer(app, org, make_user, dbsession, clock):
    user = make_user(org, email="ada@acme.example")
    request = SimpleNamespace(registry=app.registry, organisation=org, dbsession=dbsession)
    row = service.enrolment(request, user)
    uri = service.provisioning_uri(request, row, user)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Acme Clinic"]
    assert query["secret"] == [service.secret_of(request, row)]
    assert "ada%40acme.example" in parts.path


# --- logging in -----------------------------------------------------------------


def test_password_alone_does_not_log_in(enrolled):
    app = enrolled.app
    response = submit_password(app, enrolled.user, next_="/staff")
    assert response.location.endswith("/login/code")
    assert not logged_in(app)
    assert app.get("/", status=302).location.endswith("/login?next=%2F")


def test_code_logs_in_with_a_new_session(enrolled):
    app = enrolled.app
    submit_password(app, enrolled.user, next_="/profile")
    pending_cookie = app.cookies["consultroom"]
    response = submit_code(app, code_at(enrolled.secret), status=303)
    assert response.location.endswith("/profile")
    assert app.cookies["consultroom"] != pending_cookie
    assert logged_in(app)


def test_a_code_is_refused_when_replayed_in_its_step(enrolled):
    app = enrolled.app
    code = code_at(enrolled.secret)
    submit_password(app, enrolled.user)
    submit_code(app, code, status=303)
    log_out(app)
    submit_password(app, enrolled.user)
    assert "This code is not right" in submit_code(app, code, status=200).text
    assert not logged_in(app)


def test_one_step_of_drift_is_accepted_once_two_are_not(enrolled):
    app = enrolled.app
    submit_password(app, enrolled.user)
    for steps in (-2, 2):
        assert (
            "This code is not right"
            in submit_code(app, code_at(enrolled.secret, steps), status=200).text
        )
    submit_code(app, code_at(enrolled.secret, -1), status=303)  # the previous step
    log_out(app)
    submit_password(app, enrolled.user)
    assert (
        "This code is not right" in submit_code(app, code_at(enrolled.secret, -1), status=200).text
    )


def test_an_earlier_step_is_refused_after_a_later_one(enrolled):
    app = enrolled.app
    submit_password(app, enrolled.user)
    submit_code(app, code_at(enrolled.secret, 1), status=303)  # a phone running ahead
    log_out(app)
    submit_password(app, enrolled.user)
    assert "This code is not right" in submit_code(app, code_at(enrolled.secret), status=200).text


def test_a_recovery_code_works_once(enrolled, dbsession):
    app = enrolled.app
    code = enrolled.codes[3]
    submit_password(app, enrolled.user)
    response = submit_code(app, code.upper().replace("-", " "), status=303)  # as typed
    assert "9 recovery codes are left" in response.follow().text
    log_out(app)
    submit_password(app, enrolled.user)
    assert "This code is not right" in submit_code(app, code, status=200).text
    assert not logged_in(app)
    assert service.recovery_codes_left(dbsession, enrolled.user) == 9
    assert audited(dbsession, enrolled.user) == [
        "two_factor.enabled",
        "two_factor.recovery_code_used",
    ]


def test_another_users_recovery_code_does_not_work(enrolled, webtest, make_user, org, login):
    other = make_user(org)
    other_app = webtest("acme")
    login(other_app, other)
    enrol(other_app)
    log_out(other_app)
    submit_password(other_app, other)
    assert "This code is not right" in submit_code(other_app, enrolled.codes[0], status=200).text


def test_lockout_after_the_configured_number_of_failures(enrolled, app, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.second_factor_account.max", "3")
    monkeypatch.setitem(app.registry.settings, "ratelimit.second_factor_account.minutes", "10")
    web = enrolled.app
    right = code_at(enrolled.secret)
    wrong = "000000" if right != "000000" else "111111"
    submit_password(web, enrolled.user)
    for _ in range(3):
        assert "This code is not right" in submit_code(web, wrong, status=200).text
    page = submit_code(web, right, status=200)
    assert "Too many failed attempts. Wait 10 minutes" in page.text
    assert not logged_in(web)


def test_lockout_ends_after_its_window(enrolled, clock):
    web = enrolled.app
    right = code_at(enrolled.secret)
    submit_password(web, enrolled.user)
    for _ in range(5):  # the default: ratelimit.second_factor_account.max = 5
        submit_code(web, "abcdef", status=200)
    assert "Too many failed attempts" in submit_code(web, right, status=200).text
    clock.shift(15 * 60 + 1)
    submit_password(web, enrolled.user)
    submit_code(web, code_at(enrolled.secret), status=303)
    assert logged_in(web)


def test_the_pending_login_expires(enrolled, clock):
    app = enrolled.app
    submit_password(app, enrolled.user)
    clock.shift(5 * 60 + 1)
    response = app.get("/login/code", status=303)
    assert response.location.endswith("/login")
    assert "Your login took too long" in response.follow().text


def test_the_code_page_without_a_password_goes_to_login(webtest, org):
    assert webtest("acme").get("/login/code", status=303).location.endswith("/login")


def test_a_pending_login_is_not_valid_on_another_organisation(enrolled, webtest, make_organisation):
    make_organisation("other")
    submit_password(enrolled.app, enrolled.user)
    other = webtest("other")
    other.set_cookie("consultroom", enrolled.app.cookies["consultroom"])
    assert other.get("/login/code", status=303).location.endswith("/login")


def test_a_password_link_does_not_skip_the_second_factor(enrolled, dbsession):
    token, secret = UserToken.issue(enrolled.user, "reset", timedelta(hours=1))
    dbsession.add(token)
    dbsession.flush()
    app = enrolled.app
    form = app.get(f"/set-password/{secret}").forms[0]
    form["password"] = form["confirm"] = "a new and long password"
    assert form.submit(status=303).location.endswith("/login/code")
    assert not logged_in(app)


# --- the profile ---------------------------------------------------------------


def test_turn_off_needs_a_code_or_the_password(enrolled, dbsession):
    app = enrolled.app
    submit_password(app, enrolled.user)
    submit_code(app, code_at(enrolled.secret), status=303)
    form = form_to(app.get("/profile"), "/profile/two-factor/disable")
    form["proof"] = "wrong password"
    assert "neither a current code" in form.submit(status=303).follow().text
    assert service.is_enabled(dbsession, enrolled.user)
    form = form_to(app.get("/profile"), "/profile/two-factor/disable")
    form["proof"] = PASSWORD
    assert "Two-factor authentication is off." in form.submit(status=303).follow().text
    assert dbsession.get(TwoFactor, enrolled.user.id) is None
    assert (
        dbsession.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == enrolled.user.id)
        ).all()
        == []
    )
    assert audited(dbsession, enrolled.user)[-1] == "two_factor.disabled"


def test_new_recovery_codes_replace_the_old_ones(enrolled, clock):
    app = enrolled.app
    submit_password(app, enrolled.user)
    submit_code(app, code_at(enrolled.secret), status=303)
    clock.shift(30)
    form = form_to(app.get("/profile"), "/profile/two-factor/recovery-codes")
    form["code"] = code_at(enrolled.secret)
    page = form.submit(status=200)
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", page.text)
    assert len(codes) == 10 and not set(codes) & set(enrolled.codes)
    log_out(app)
    submit_password(app, enrolled.user)
    assert "This code is not right" in submit_code(app, enrolled.codes[0], status=200).text
    submit_code(app, codes[0], status=303)


# --- the organisation's setting ---------------------------------------------------


def test_off_by_default_no_prompt(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    assert submit_password(app, user).location.endswith("/")


def test_allow_prompts_after_each_login_with_not_now(webtest, org, make_user, login):
    org.settings = {"two_factor": "allow"}
    user = make_user(org)
    app = webtest("acme")
    response = submit_password(app, user, next_="/profile")
    assert urlsplit(response.location).path == "/two-factor"
    page = response.follow()
    assert "Turn on now" in page.text
    assert page.click("Not now").request.path == "/profile"
    log_out(app)
    assert "/two-factor" in submit_password(app, user).location  # again


def test_allow_does_not_prompt_users_who_have_it(enrolled, org):
    org.settings = {"two_factor": "allow"}
    app = enrolled.app
    submit_password(app, enrolled.user)
    assert submit_code(app, code_at(enrolled.secret), status=303).location.endswith("/")


def test_require_allows_nothing_but_enrolment_and_logout(webtest, org, make_user, clock):
    org.settings = {"two_factor": "require"}
    user = make_user(org)
    app = webtest("acme")
    assert submit_password(app, user).location.endswith("/profile/two-factor")
    for path in ("/", "/profile", "/clients"):
        assert app.get(path, status=303).location.endswith("/profile/two-factor")
    assert app.post("/profile", {}, status=303).location.endswith("/profile/two-factor")
    page = app.get("/profile/two-factor")
    assert "Your organisation requires two-factor authentication" in page.text
    form = form_to(page, "/profile/two-factor")
    form["code"] = code_at(secret_on(page))
    form.submit(status=200)
    assert app.get("/", status=200)


def test_require_lets_a_user_log_out(webtest, org, make_user):
    org.settings = {"two_factor": "require"}
    user = make_user(org)
    app = webtest("acme")
    submit_password(app, user)
    page = app.get("/profile/two-factor")
    assert form_to(page, "/logout").submit(status=303).location.endswith("/login")
    assert app.get("/profile/two-factor", status=302).location.startswith("http://acme.")


# --- administrators --------------------------------------------------------------


def test_org_admin_switches_off_a_lost_phone(enrolled, webtest, make_user, org, login, dbsession):
    admin = make_user(org, role=Role.org_admin)
    app = webtest("acme")
    login(app, admin)
    page = app.get(f"/staff/{enrolled.user.id}")
    form = form_to(page, f"/staff/{enrolled.user.id}/two-factor/reset")
    assert "Two-factor authentication of Dr Ada is off." in form.submit(status=303).follow().text
    assert not service.is_enabled(dbsession, enrolled.user)
    reset_entry = dbsession.scalars(
        select(AuditEntry).where(AuditEntry.action == "two_factor.reset")
    ).one()
    assert (reset_entry.user_id, reset_entry.object_id) == (admin.id, str(enrolled.user.id))
    assert "/two-factor/reset" not in app.get(f"/staff/{enrolled.user.id}").text
    # Now the password alone logs in.
    assert submit_password(enrolled.app, enrolled.user).location.endswith("/")


def reset(app, user_id, status):
    csrf = form_to(app.get("/profile"), "/logout")["csrf_token"].value
    return app.post(f"/staff/{user_id}/two-factor/reset", {"csrf_token": csrf}, status=status)


def test_department_admin_resets_their_practitioners_only(
    webtest, make_user, org, login, dbsession, clock, enrol_directly
):
    own = Department(organisation_id=org.id, name="Own")
    other = Department(organisation_id=org.id, name="Other")
    dbsession.add_all([own, other])
    dbsession.flush()
    mine = make_user(org, department_id=own.id)
    theirs = make_user(org, department_id=other.id)
    for user in (mine, theirs):
        enrol_directly(user)
    dept_admin = make_user(org, role=Role.dept_admin, department_id=own.id)
    app = webtest("acme")
    login(app, dept_admin)
    reset(app, theirs.id, status=404)
    assert service.is_enabled(dbsession, theirs)
    reset(app, mine.id, status=303)
    assert not service.is_enabled(dbsession, mine)


def test_a_practitioner_cannot_reset_anyone(
    webtest, make_user, org, login, dbsession, clock, enrol_directly
):
    colleague = make_user(org)
    enrol_directly(colleague)
    app = webtest("acme")
    login(app, make_user(org))
    reset(app, colleague.id, status=403)
    assert service.is_enabled(dbsession, colleague)


def test_another_organisations_user_is_not_found(
    webtest, make_user, make_organisation, org, login, dbsession, clock, enrol_directly
):
    stranger = make_user(make_organisation("beta"))
    enrol_directly(stranger)
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    reset(app, stranger.id, status=404)
    assert service.is_enabled(dbsession, stranger)


def test_an_admin_does_not_reset_their_own(
    webtest, make_user, org, dbsession, clock, enrol_directly
):
    admin = make_user(org, role=Role.org_admin)
    enrol_directly(admin)
    app = webtest("acme")
    submit_password(app, admin)
    submit_code(app, code_at(KNOWN_SECRET), status=303)
    reset(app, admin.id, status=404)
    assert service.is_enabled(dbsession, admin)


# --- encryption at rest ------------------------------------------------------------


def test_encryption_key_setting_rotation_and_derived_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = box_from_settings({SETTING: old, "session.secret": "s" * 64}).encrypt(b"secret")
    rotated = box_from_settings({SETTING: f"{new}  {old}", "session.secret": "s" * 64})
    assert rotated.decrypt(token) == b"secret"
    assert Fernet(new).decrypt(rotated.encrypt(b"secret")) == b"secret"  # the first encrypts

    derived = box_from_settings({"session.secret": "s" * 64})
    assert (
        box_from_settings({"session.secret": "s" * 64}).decrypt(derived.encrypt(b"secret"))
        == b"secret"
    )
    with pytest.raises(InvalidToken):
        box_from_settings({"session.secret": "t" * 64}).decrypt(derived.encrypt(b"secret"))


def test_an_unusable_encryption_key_stops_start_up():
    with pytest.raises(ConfigurationError, match="security.encryption_key"):
        box_from_settings({SETTING: "CHANGE-ME", "session.secret": "s" * 64})
