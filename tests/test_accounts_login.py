"""Logging in and out: CSRF, passwords, rate limits, redirects, tenants,
the console's superuser, inactive accounts and the idle timeout."""

from datetime import UTC, datetime, timedelta

import pytest

from consultroom.accounts.models import Role
from consultroom.accounts.passwords import PROFILES
from consultroom.accounts.security import ILoginStep
from consultroom.testing import PASSWORD


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


def submit_login(testapp, email, password, next_=None, status=None):
    page = testapp.get("/login" + (f"?next={next_}" if next_ is not None else ""))
    form = page.forms[0]
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)


def assert_logged_in(testapp, user):
    page = testapp.get("/", status=200)
    assert user.name in page.text
    assert "Log out" in page.text


def assert_logged_out(testapp):
    response = testapp.get("/", status=302)
    assert "/login" in response.location


# --- the form, CSRF and passwords ----------------------------------------------


def test_login_and_logout(webtest, org, make_user):
    user = make_user(org, name="Dr Ada")
    app = webtest("acme")
    assert_logged_out(app)
    response = submit_login(app, user.email, PASSWORD, status=303)
    assert response.location.endswith("/")
    assert_logged_in(app, user)

    logout_form = [f for f in app.get("/").forms.values() if f.action == "/logout"][0]
    assert logout_form.submit(status=303).location.endswith("/login")
    assert_logged_out(app)


def test_email_is_case_and_space_insensitive(webtest, org, make_user):
    user = make_user(org, email="ada@example.org")
    app = webtest("acme")
    submit_login(app, "  Ada@Example.ORG ", PASSWORD, status=303)
    assert_logged_in(app, user)


def test_login_form_carries_a_csrf_token(webtest, org):
    form = webtest("acme").get("/login").forms[0]
    assert form["csrf_token"].value


def test_post_without_csrf_token_is_form_expired_not_500(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    app.get("/login")
    response = app.post("/login", {"email": user.email, "password": PASSWORD}, status=400)
    assert "Form expired" in response.text
    assert_logged_out(app)


def test_post_with_a_wrong_csrf_token_is_form_expired(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    form = app.get("/login").forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    form["csrf_token"] = "0" * 40
    assert "Form expired" in form.submit(status=400).text
    assert_logged_out(app)


def test_logout_needs_csrf_token(webtest, org, make_user, login):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    assert "Form expired" in app.post("/logout", status=400).text
    assert_logged_in(app, user)


def test_wrong_password_is_a_clear_message(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    page = submit_login(app, user.email, "wrong password", status=200)
    assert "The e-mail address or the password is wrong." in page.text
    assert_logged_out(app)


def test_unknown_email_gets_the_same_message(webtest, org):
    app = webtest("acme")
    page = submit_login(app, "nobody@example.org", PASSWORD, status=200)
    assert "The e-mail address or the password is wrong." in page.text


@pytest.mark.parametrize("email, password", [("", PASSWORD), ("a@example.org", "")])
def test_empty_fields_are_refused(webtest, org, email, password):
    page = submit_login(webtest("acme"), email, password, status=200)
    assert "This field is required." in page.text


def test_stored_password_is_an_argon2_hash(org, make_user, dbsession):
    user = make_user(org)
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


def test_session_cookie_changes_at_login(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    form = app.get("/login").forms[0]
    before = app.cookies["consultroom"]
    form["email"], form["password"] = user.email, PASSWORD
    form.submit(status=303)
    after = app.cookies["consultroom"]
    assert after != before
    # The pre-login cookie, replayed, is still anonymous.
    other = webtest("acme")
    other.set_cookie("consultroom", before)
    assert_logged_out(other)


def test_csrf_token_changes_at_login(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    form = app.get("/login").forms[0]
    token_before = form["csrf_token"].value
    form["email"], form["password"] = user.email, PASSWORD
    form.submit(status=303)
    token_after = app.get("/profile").forms[0]["csrf_token"].value
    assert token_after != token_before


def test_logged_in_user_visiting_login_goes_home(webtest, org, make_user, login):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    assert app.get("/login", status=302).location.endswith("/")


@pytest.fixture
def without_login_step(app):
    """The app as if no feature asked for more than a password (two-factor
    authentication, a feature above accounts, registers the step)."""
    registry = app.registry
    step = registry.getUtility(ILoginStep)
    registry.unregisterUtility(provided=ILoginStep)
    yield
    registry.registerUtility(step, ILoginStep)


def test_without_a_login_step_the_password_logs_in_at_once(
    webtest, org, make_user, without_login_step
):
    # With the step, "allow" sends the user to the prompt to turn it on.
    org.settings = {"two_factor": "allow"}
    user = make_user(org)
    app = webtest("acme")
    response = submit_login(app, user.email, PASSWORD, next_="/profile", status=303)
    assert response.location.endswith("/profile")
    assert_logged_in(app, user)


# --- rate limits ----------------------------------------------------------------

TOO_MANY = "Too many failed attempts"


def test_account_is_locked_after_five_failures(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    for _ in range(5):
        page = submit_login(app, user.email, "wrong password", status=200)
        assert TOO_MANY not in page.text
    page = submit_login(app, user.email, PASSWORD, status=200)
    assert TOO_MANY in page.text
    assert "Wait 15 minutes" in page.text
    assert_logged_out(app)


def test_account_limit_applies_from_every_address(webtest, org, make_user, app):
    from webtest import TestApp

    user = make_user(org)
    for n in range(5):
        attacker = TestApp(
            app,
            extra_environ={"HTTP_HOST": "acme.consultroom.test", "REMOTE_ADDR": f"198.51.100.{n}"},
        )
        submit_login(attacker, user.email, "wrong password", status=200)
    page = submit_login(webtest("acme"), user.email, PASSWORD, status=200)
    assert TOO_MANY in page.text


def test_account_limit_follows_the_setting(webtest, org, make_user, app, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.login_account.max", "2")
    user = make_user(org)
    app_ = webtest("acme")
    for _ in range(2):
        submit_login(app_, user.email, "wrong password", status=200)
    assert TOO_MANY in submit_login(app_, user.email, PASSWORD, status=200).text


def test_four_failures_do_not_lock_and_success_resets_the_count(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    for _ in range(4):
        submit_login(app, user.email, "wrong password", status=200)
    submit_login(app, user.email, PASSWORD, status=303)
    app = webtest("acme")
    for _ in range(4):
        submit_login(app, user.email, "wrong password", status=200)
    submit_login(app, user.email, PASSWORD, status=303)


def test_account_lock_is_per_account_and_per_organisation(
    webtest, org, make_organisation, make_user, app
):
    from webtest import TestApp

    other_org = make_organisation("other")
    locked = make_user(org, email="same@example.org")
    twin = make_user(other_org, email="same@example.org")
    colleague = make_user(org)
    for n in range(5):
        attacker = TestApp(
            app,
            extra_environ={"HTTP_HOST": "acme.consultroom.test", "REMOTE_ADDR": f"198.51.100.{n}"},
        )
        submit_login(attacker, locked.email, "wrong password", status=200)
    submit_login(webtest("acme"), colleague.email, PASSWORD, status=303)
    submit_login(webtest("other"), twin.email, PASSWORD, status=303)


def test_address_is_limited_across_accounts(webtest, org, make_user, app, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.login_address.max", "3")
    victims = [make_user(org) for _ in range(3)]
    user = make_user(org)
    attacker = webtest("acme")  # always 192.0.2.10
    for victim in victims:
        submit_login(attacker, victim.email, "wrong password", status=200)
    page = submit_login(attacker, user.email, PASSWORD, status=200)
    assert TOO_MANY in page.text
    assert_logged_out(attacker)


def test_address_limit_defaults_to_twenty(webtest, org, make_user):
    # Four accounts, five failures each: no account is locked before its
    # fifth failure, but the address has failed twenty times.
    victims = [make_user(org) for _ in range(4)]
    user = make_user(org)
    attacker = webtest("acme")
    for n in range(20):
        page = submit_login(attacker, victims[n % 4].email, "wrong password", status=200)
        assert TOO_MANY not in page.text
    assert TOO_MANY in submit_login(attacker, user.email, PASSWORD, status=200).text
    # The same account from another address is fine.
    from webtest import TestApp

    elsewhere = TestApp(
        attacker.app,
        extra_environ={"HTTP_HOST": "acme.consultroom.test", "REMOTE_ADDR": "203.0.113.7"},
    )
    submit_login(elsewhere, user.email, PASSWORD, status=303)


# --- where to go after logging in -------------------------------------------------


def test_next_is_followed_for_local_paths(webtest, org, make_user):
    user = make_user(org)
    app = webtest("acme")
    response = app.get("/profile", status=302)
    assert "next=%2Fprofile" in response.location
    page = response.follow()
    page.forms[0]["email"] = user.email
    page.forms[0]["password"] = PASSWORD
    assert page.forms[0].submit(status=303).location == "http://acme.consultroom.test/profile"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/profile",
        "http://evil.com",
        "https://evil.com/x",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "%2F%2Fevil.com",
    ],
)
def test_next_does_not_redirect_elsewhere(webtest, org, make_user, target):
    user = make_user(org)
    app = webtest("acme")
    response = app.post(
        "/login",
        {
            "email": user.email,
            "password": PASSWORD,
            "next": target,
            "csrf_token": app.get("/login").forms[0]["csrf_token"].value,
        },
        status=303,
    )
    assert response.location.startswith("http://acme.consultroom.test/")
    assert "evil" not in response.location.split("//", 1)[1].split("/", 1)[0]


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/profile?tab=1", "/profile?tab=1"),
        ("//evil.com", "/"),
        ("/\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("https://evil.com", "/"),
        ("", "/"),
    ],
)
def test_safe_next_itself(target, expected):
    """The check itself, not only WebOb's own defence for Location headers."""
    from types import SimpleNamespace

    from consultroom.accounts.navigation import safe_next

    request = SimpleNamespace(params={"next": target}, route_path=lambda name: "/")
    assert safe_next(request) == expected


@pytest.mark.parametrize("target", ["//evil.com", "http://evil.com"])
def test_next_on_an_already_logged_in_visit_is_checked_too(webtest, org, make_user, login, target):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    response = app.get("/login", {"next": target}, status=302)
    assert response.location.startswith("http://acme.consultroom.test/")


# --- tenants, the console, inactive accounts ---------------------------------------


def test_user_of_one_organisation_is_unknown_on_another(
    webtest, org, make_organisation, make_user, login
):
    make_organisation("beta")
    user = make_user(org)
    app_a = webtest("acme")
    login(app_a, user)
    app_b = webtest("beta")
    app_b.set_cookie("consultroom", app_a.cookies["consultroom"])
    response = app_b.get("/", status=302)
    assert response.location.startswith("http://beta.consultroom.test/login")
    app_b.get("/profile", status=302)
    # ...nor on the console.
    console = webtest()
    console.set_cookie("consultroom", app_a.cookies["consultroom"])
    assert "/login" in console.get("/", status=302).location


def test_user_cannot_log_in_on_another_organisations_subdomain(
    webtest, org, make_organisation, make_user
):
    make_organisation("beta")
    user = make_user(org)
    page = submit_login(webtest("beta"), user.email, PASSWORD, status=200)
    assert "The e-mail address or the password is wrong." in page.text


def test_superuser_logs_in_on_the_console_only(webtest, org, make_user):
    superuser = make_user(None, role=Role.superuser, email="root@provider.example")
    page = submit_login(webtest("acme"), superuser.email, PASSWORD, status=200)
    assert "The e-mail address or the password is wrong." in page.text

    console = webtest()
    submit_login(console, superuser.email, PASSWORD, status=303)
    assert console.get("/", status=200)
    # The console session means nothing on an organisation's subdomain.
    app = webtest("acme")
    app.set_cookie("consultroom", console.cookies["consultroom"])
    assert_logged_out(app)


def test_staff_member_cannot_log_in_on_the_console(webtest, org, make_user):
    user = make_user(org)
    page = submit_login(webtest(), user.email, PASSWORD, status=200)
    assert "The e-mail address or the password is wrong." in page.text


def test_inactive_user_cannot_log_in(webtest, org, make_user):
    user = make_user(org, active=False)
    app = webtest("acme")
    page = submit_login(app, user.email, PASSWORD, status=200)
    assert "The e-mail address or the password is wrong." in page.text
    assert_logged_out(app)


def test_invited_user_without_password_cannot_log_in(webtest, org, make_user):
    user = make_user(org, password=None)
    page = submit_login(webtest("acme"), user.email, "", status=200)
    assert "This field is required." in page.text
    page = submit_login(webtest("acme"), user.email, "anything at all", status=200)
    assert "The e-mail address or the password is wrong." in page.text


def test_deactivated_user_is_logged_out(webtest, org, make_user, login, dbsession):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    user.active = False
    dbsession.flush()
    assert_logged_out(app)


# --- idle timeout (more in test_sessions.py) ---------------------------------------


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def test_session_idle_for_longer_than_the_timeout_is_refused(webtest, org, make_user, login, clock):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    clock.shift(timedelta(minutes=31))
    assert_logged_out(app)


def test_active_session_is_kept_alive(webtest, org, make_user, login, clock):
    user = make_user(org)
    app = webtest("acme")
    login(app, user)
    # Each visit within the idle time renews the session.
    for _ in range(3):
        clock.shift(timedelta(minutes=29))
        assert_logged_in(app, user)


def test_console_idle_minutes_setting_is_used(
    app_settings, _app_dbmaker, db_connection, make_user, clock
):
    from webtest import TestApp

    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    settings = {**app_settings, "session.idle_minutes": "5"}
    wsgi = make_config(
        settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker
    ).make_wsgi_app()
    superuser = make_user(None, role=Role.superuser)
    app = TestApp(wsgi, extra_environ={"HTTP_HOST": "consultroom.test"})
    submit_login(app, superuser.email, PASSWORD, status=303)
    clock.shift(timedelta(minutes=4))
    assert app.get("/", status=200)
    clock.shift(timedelta(minutes=6))
    assert "/login" in app.get("/", status=302).location


def test_production_hashes_passwords_at_full_cost(app_settings, _app_dbmaker, db_engine):
    """The test suite hashes cheaply (``passwords.argon2_profile``); without the
    setting, argon2-cffi's recommended parameters (RFC 9106, low memory) apply."""
    from argon2 import extract_parameters, profiles

    from consultroom.accounts.passwords import password_hasher
    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    settings = {k: v for k, v in app_settings.items() if k != "passwords.argon2_profile"}
    registry = make_config(
        settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker
    ).registry
    stored = password_hasher(registry).hash("a password")
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    assert (profiles.RFC_9106_LOW_MEMORY.time_cost, profiles.RFC_9106_LOW_MEMORY.memory_cost) == (
        3,
        65536,
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_an_unknown_account_is_checked_against_a_hash_of_the_profiles_cost(profile, monkeypatch):
    """A login for an address nobody has verifies a dummy hash made with the
    profile's parameters (so it takes as long as a wrong password), and
    starting a process hashes nothing to get it."""
    from argon2 import PasswordHasher, extract_parameters, profiles

    from consultroom.accounts.passwords import Argon2Hasher

    def no_hashing(self, password, **kw):
        raise AssertionError("hashed at start")

    with monkeypatch.context() as patched:
        patched.setattr(PasswordHasher, "hash", no_hashing)
        hasher = Argon2Hasher(profile)
    assert extract_parameters(hasher._dummy) == getattr(profiles, profile)
    if profile == "CHEAPEST":  # the others cost seconds or gigabytes to verify
        assert hasher.verify(None, "not a real password") is False


def test_a_profile_whose_parameters_changed_gets_a_dummy_hash_of_its_own(monkeypatch):
    from argon2 import extract_parameters, profiles

    from consultroom.accounts import passwords

    stale = passwords.DUMMY_HASHES["RFC_9106_LOW_MEMORY"]
    monkeypatch.setitem(passwords.DUMMY_HASHES, "CHEAPEST", stale)
    hasher = passwords.Argon2Hasher("CHEAPEST")
    assert extract_parameters(hasher._dummy) == profiles.CHEAPEST
    assert hasher.verify(None, "not a real password") is False


def test_an_unknown_hashing_profile_stops_the_start(app_settings, _app_dbmaker):
    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    with pytest.raises(ValueError, match="passwords.argon2_profile"):
        make_config(
            {**app_settings, "passwords.argon2_profile": "FAST"},
            plugins=PluginRegistry.discover(),
            dbmaker=_app_dbmaker,
        )


def test_a_login_rehashes_a_password_hashed_with_other_parameters(
    webtest, make_user, login, make_organisation, dbsession
):
    from argon2 import PasswordHasher, extract_parameters, profiles

    user = make_user(make_organisation("acme"), password=None)
    user.password_hash = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash(PASSWORD)
    dbsession.flush()
    login(webtest("acme"), user, password=PASSWORD)
    dbsession.refresh(user)
    assert extract_parameters(user.password_hash) == profiles.CHEAPEST
