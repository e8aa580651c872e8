"""Server-side sessions: the cookie, a new id at login, ending a user's
sessions (log out everywhere, deactivation, a new password), the idle timeout
and its keep-alive, the maximum age, flash messages and pruning."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from webob import Response

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.sessions import prune
from consultroom.sessions.models import StoredSession
from consultroom.sessions.store import COOKIE, _cookie_text
from consultroom.testing import PASSWORD


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def user(org, make_user):
    return make_user(org, name="Dr Ada")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def logged_in(testapp):
    response = testapp.get("/")
    if response.status_int == 302:
        assert "/login" in response.location
        return False
    assert "Log out" in response.text
    return True


def rows(dbsession, **where):
    dbsession.expire_all()
    query = select(StoredSession).filter_by(**where)
    return dbsession.scalars(query).all()


def row_of(dbsession, testapp):
    cookie = testapp.cookies["consultroom"]
    dbsession.expire_all()
    return dbsession.get(StoredSession, hashlib.sha256(cookie.encode()).hexdigest())


def csrf(testapp, path="/profile"):
    return testapp.get(path).forms[0]["csrf_token"].value


def form_to(page, action):
    return [f for f in page.forms.values() if f.action == action][0]


def set_cookie_header(response):
    return [v for k, v in response.headerlist if k == "Set-Cookie" and "consultroom=" in v][0]


# --- the cookie --------------------------------------------------------------------


def test_cookie_is_a_random_id_whose_hash_is_stored(webtest, user, login, dbsession):
    app = webtest("acme")
    login(app, user)
    cookie = app.cookies["consultroom"]
    assert len(cookie) >= 43  # 256 bits
    row = row_of(dbsession, app)
    assert row.user_id == user.id and row.organisation_id == user.organisation_id
    assert cookie not in row.id_hash and cookie not in str(row.data)


def test_the_session_and_its_user_are_read_in_one_statement(
    webtest, user, login, dbsession, statements
):
    app = webtest("acme")
    login(app, user)
    dbsession.commit()
    app.get("/profile")
    statements.clear()
    assert "Dr Ada" in app.get("/profile").text
    users = [s for s in statements if "user_account.session_generation" in s]  # the whole row
    assert len(users) == 1 and "server_session" in users[0]


def test_cookie_flags(webtest, org, app, monkeypatch):
    header = set_cookie_header(webtest("acme").get("/login"))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "secure" not in header.lower()  # session.secure = false in the tests
    assert "expires" not in header.lower()  # ends with the browser; the server ends it too
    monkeypatch.setitem(app.registry.settings, "session.secure", "true")
    assert "; secure" in set_cookie_header(webtest("acme").get("/login")).lower()


def test_pages_that_do_not_use_the_session_set_no_cookie(webtest, org):
    response = webtest("acme").get("/static/css/main.css")
    assert "Set-Cookie" not in response.headers


def test_session_id_differs_before_and_after_login(webtest, user, dbsession):
    app = webtest("acme")
    form = app.get("/login").forms[0]
    before = app.cookies["consultroom"]
    form["email"], form["password"] = user.email, PASSWORD
    form.submit(status=303)
    after = app.cookies["consultroom"]
    assert after != before
    assert row_of(dbsession, app).user_id == user.id


# --- no row until something is stored ------------------------------------------------------


@pytest.fixture
def visitor_pages(org, user, dbsession):
    """Pages anonymous visitors and API callers open, none of which store anything."""
    key = org.rotate_api_key()
    client = Client(organisation_id=org.id, initials="A.", last_name="Bakker", email="a@x.org")
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner=user,
        starts_at=utcnow() + timedelta(minutes=5),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return [
        ("/static/css/main.css", {}),
        ("/no-such-page", {"status": 404}),
        ("/", {"status": 302}),
        ("/book", {}),
        (f"/c/{appointment.token}", {}),
        ("/c/no-such-token", {"status": 404}),
        ("/api/v1/appointments", {"headers": {"Authorization": f"Bearer {key}"}}),
    ]


def test_pages_that_store_nothing_create_no_session(webtest, visitor_pages, dbsession):
    for path, kw in visitor_pages:
        response = webtest("acme").get(path, **kw)
        assert "Set-Cookie" not in response.headers, path
    assert rows(dbsession) == []


def test_login_page_stores_no_session_its_token_is_bound_to_the_cookie(webtest, user, dbsession):
    app = webtest("acme")
    form = app.get("/login").forms[0]
    assert app.cookies["consultroom"] and rows(dbsession) == []
    assert app.get("/login").forms[0]["csrf_token"].value == form["csrf_token"].value
    # Another browser's token is refused here, and this one's elsewhere.
    other = webtest("acme")
    stolen = other.get("/login").forms[0]["csrf_token"].value
    body = {"email": user.email, "password": PASSWORD}
    assert "Form expired" in app.post("/login", {**body, "csrf_token": stolen}, status=400)
    webtest("acme").post("/login", {**body, "csrf_token": form["csrf_token"].value}, status=400)
    assert rows(dbsession) == []
    form["email"], form["password"] = user.email, PASSWORD
    form.submit(status=303)
    assert logged_in(app)


def test_login_pages_token_is_bound_to_the_site(webtest, user, make_organisation):
    make_organisation("other")
    home, elsewhere = webtest("acme"), webtest("other")
    token = csrf(home, "/login")
    elsewhere.set_cookie("consultroom", home.cookies["consultroom"])
    body = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    elsewhere.post("/login", body, status=400)


def test_login_pages_token_ends_at_the_maximum_age(webtest, user, clock):
    app = webtest("acme")
    form = app.get("/login").forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    clock.shift(timedelta(hours=12))
    assert "Form expired" in form.submit(status=400).text
    assert not logged_in(app)


def test_an_ended_sessions_cookie_does_not_become_a_visitors(webtest, user, login, dbsession):
    app = webtest("acme")
    login(app, user)
    ended = app.cookies["consultroom"]
    form_to(app.get("/"), "/logout").submit(status=303)
    visitor = webtest("acme")
    visitor.set_cookie("consultroom", ended)
    response = visitor.get("/login")
    assert visitor.cookies["consultroom"] != ended
    assert "consultroom=;" not in set_cookie_header(response)


def test_stolen_cookie_is_refused_after_logout(webtest, user, login, dbsession):
    app = webtest("acme")
    login(app, user)
    stolen = app.cookies["consultroom"]
    form_to(app.get("/"), "/logout").submit(status=303)
    assert rows(dbsession, user_id=user.id) == []
    thief = webtest("acme")
    thief.set_cookie("consultroom", stolen)
    assert not logged_in(thief)


def test_a_cookie_copied_to_another_site_finds_no_session(
    webtest, user, login, dbsession, make_organisation
):
    home = webtest("acme")
    login(home, user)
    make_organisation("other")
    elsewhere = webtest("other")
    elsewhere.set_cookie("consultroom", home.cookies["consultroom"])
    token = csrf(home)
    # Not even a logout: the session is not found there, so it is not ended.
    elsewhere.post("/logout", {"csrf_token": token}, status=400)
    assert logged_in(home)


@pytest.mark.parametrize("value", ["x" * 65, "not-a-session", "%00"])
def test_unknown_or_malformed_cookie_is_an_anonymous_visitor(webtest, org, value):
    app = webtest("acme")
    app.set_cookie("consultroom", value)
    assert not logged_in(app)


# --- flash messages and 4xx responses ------------------------------------------------------


def test_flash_survives_the_redirect_after_post_once(webtest, user, login):
    app = webtest("acme")
    login(app, user)
    page = form_to(app.get("/profile"), "/profile").submit(status=303).follow()
    assert "Your profile is saved." in page.text
    assert "Your profile is saved." not in app.get("/profile").text


def test_session_change_is_saved_with_a_committed_4xx_response(
    webtest, user, login, dbsession, clock
):
    app = webtest("acme")
    login(app, user)
    seen = row_of(dbsession, app).last_seen
    clock.shift(timedelta(minutes=2))
    app.get("/set-password/no-such-token", status=410)
    assert row_of(dbsession, app).last_seen == seen + timedelta(minutes=2)


# --- ending a user's sessions ---------------------------------------------------------------


@pytest.fixture
def kicked(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "consultroom.sessions.kick_user", lambda registry, user_id: calls.append(user_id)
    )
    return calls


def test_log_out_everywhere_ends_every_session(
    webtest, user, login, dbsession, kicked, make_user, org
):
    colleague = make_user(org)
    phone, laptop, other = webtest("acme"), webtest("acme"), webtest("acme")
    login(phone, user)
    login(laptop, user)
    login(other, colleague)
    page = form_to(laptop.get("/profile"), "/session/end-all").submit(status=303).follow()
    assert "You are logged out on every device." in page.text
    assert not logged_in(laptop)
    assert not logged_in(phone)
    assert logged_in(other)
    assert rows(dbsession, user_id=user.id) == []
    assert kicked == [user.id]


def test_log_out_everywhere_needs_a_login_and_a_csrf_token(webtest, user, login, kicked):
    anonymous = webtest("acme")
    anonymous.post("/session/end-all", {"csrf_token": csrf(anonymous, "/login")}, status=403)
    app = webtest("acme")
    login(app, user)
    app.post("/session/end-all", status=400)
    assert logged_in(app) and kicked == []


def test_deactivated_users_other_session_ends(
    webtest, org, user, make_user, login, dbsession, kicked
):
    admin = make_user(org, role=Role.org_admin)
    users_app, admin_app = webtest("acme"), webtest("acme")
    login(users_app, user)
    login(admin_app, admin)
    form = form_to(admin_app.get(f"/staff/{user.id}"), "")
    form["active"] = False
    form.submit(status=303)
    assert rows(dbsession, user_id=user.id) == []
    assert not logged_in(users_app)
    assert kicked == [user.id]
    assert logged_in(admin_app)


def test_changing_the_password_ends_the_other_sessions_only(
    webtest, user, login, dbsession, kicked
):
    here, elsewhere = webtest("acme"), webtest("acme")
    login(here, user)
    login(elsewhere, user)
    old_cookie = here.cookies["consultroom"]
    form = form_to(here.get("/profile"), "/profile/password")
    form["current"], form["password"] = PASSWORD, "a new password 123"
    form["confirm"] = "a new password 123"
    form.submit(status=303)
    assert logged_in(here) and here.cookies["consultroom"] != old_cookie
    assert not logged_in(elsewhere)
    assert len(rows(dbsession, user_id=user.id)) == 1
    assert kicked == [user.id]


def test_nothing_is_ended_when_the_change_is_not_committed(
    webtest, org, user, make_user, login, dbsession, kicked
):
    admin = make_user(org, role=Role.org_admin)
    users_app, admin_app = webtest("acme"), webtest("acme")
    login(users_app, user)
    login(admin_app, admin)
    form = form_to(admin_app.get(f"/staff/{user.id}"), "")
    form["active"] = False
    form["csrf_token"] = "wrong"
    form.submit(status=400)
    assert logged_in(users_app) and kicked == []


# --- idle timeout, keep-alive, maximum age ----------------------------------------------------


def test_idle_timeout_is_the_organisations_setting(webtest, org, user, login, dbsession, clock):
    org.settings = {"session_idle_minutes": 10}
    dbsession.flush()
    app = webtest("acme")
    login(app, user)
    clock.shift(timedelta(minutes=9))
    assert logged_in(app)
    clock.shift(timedelta(minutes=9, seconds=59))
    assert logged_in(app)
    clock.shift(timedelta(minutes=10))
    assert not logged_in(app)


def test_default_idle_timeout_is_30_minutes(webtest, user, login, clock):
    app = webtest("acme")
    login(app, user)
    clock.shift(timedelta(minutes=29))
    assert logged_in(app)
    clock.shift(timedelta(minutes=30))
    assert not logged_in(app)


def test_lowering_the_setting_applies_to_existing_sessions(
    webtest, org, user, login, dbsession, clock
):
    app = webtest("acme")
    login(app, user)
    org.settings = {"session_idle_minutes": 5}
    dbsession.flush()
    clock.shift(timedelta(minutes=6))
    assert not logged_in(app)


def test_last_seen_is_written_at_most_once_a_minute(webtest, user, login, dbsession, clock):
    app = webtest("acme")
    login(app, user)
    seen = row_of(dbsession, app).last_seen
    clock.shift(timedelta(seconds=30))
    app.get("/")
    assert row_of(dbsession, app).last_seen == seen
    clock.shift(timedelta(seconds=31))
    app.get("/")
    assert row_of(dbsession, app).last_seen == seen + timedelta(seconds=61)


def test_status_tells_the_time_left_without_extending(webtest, user, login, clock):
    app = webtest("acme")
    login(app, user)
    clock.shift(timedelta(minutes=20))
    response = app.get("/session/status")
    assert response.json == {"remaining": 600}
    assert response.headers["Cache-Control"] == "no-store"
    clock.shift(timedelta(minutes=10))
    assert app.get("/session/status").json == {"remaining": 0}
    assert not logged_in(app)


def test_status_without_a_login_is_zero(webtest, org):
    assert webtest("acme").get("/session/status").json == {"remaining": 0}


def test_keep_alive_extends_the_session(webtest, user, login, clock):
    app = webtest("acme")
    login(app, user)
    token = csrf(app)
    clock.shift(timedelta(minutes=29, seconds=30))
    # As idle.js sends it: the token in a header.
    response = app.post("/session/keep-alive", headers={"X-CSRF-Token": token})
    assert response.json == {"remaining": 1800}
    clock.shift(timedelta(minutes=29))
    assert app.get("/session/status").json == {"remaining": 60}
    assert logged_in(app)


def test_keep_alive_needs_the_csrf_token_and_a_live_session(webtest, user, login, clock):
    app = webtest("acme")
    login(app, user)
    token = csrf(app)
    app.post("/session/keep-alive", status=400)
    clock.shift(timedelta(minutes=31))
    # Too late: the session has ended, its token with it.
    app.post("/session/keep-alive", {"csrf_token": token}, status=400)
    assert not logged_in(app)


def test_console_keep_alive_and_status(webtest, make_user, login, clock):
    superuser = make_user(None, role=Role.superuser)
    console = webtest()
    login(console, superuser)
    token = console.get("/").forms[0]["csrf_token"].value
    clock.shift(timedelta(minutes=10))
    assert console.post("/session/keep-alive", {"csrf_token": token}).json == {"remaining": 1800}


def test_session_ends_after_the_maximum_age_even_when_used(webtest, user, login, clock):
    app = webtest("acme")
    login(app, user)
    for _ in range(24):
        clock.shift(timedelta(minutes=29))
        assert logged_in(app)
    clock.shift(timedelta(minutes=29))  # 12 hours and 5 minutes after logging in
    assert not logged_in(app)


def test_idle_warning_knows_the_timeout(webtest, org, user, login, dbsession):
    org.settings = {"session_idle_minutes": 45}
    dbsession.flush()
    app = webtest("acme")
    login(app, user)
    dialog = app.get("/").html.find("dialog", id="idle-dialog")
    assert dialog["data-idle-seconds"] == "2700"
    assert 2600 < int(dialog["data-remaining"]) <= 2700
    assert dialog["data-keep-alive-url"] == "/session/keep-alive"
    assert dialog["data-csrf-token"] == csrf(app)
    assert "Stay logged in" in dialog.find("button").text
    assert app.get("/").html.find("script", src="/static/js/idle.js")


def test_no_idle_warning_for_anonymous_visitors(webtest, org):
    assert 'id="idle-dialog"' not in webtest("acme").get("/login").text


# --- pruning --------------------------------------------------------------------------


def test_worker_prunes_ended_sessions(webtest, org, user, login, dbsession, clock):
    org.settings = {"session_idle_minutes": 5}
    dbsession.flush()
    idle, active = webtest("acme"), webtest("acme")
    login(idle, user)
    login(active, user)
    clock.shift(timedelta(minutes=4))
    active.get("/")
    clock.shift(timedelta(minutes=2))
    prune(dbsession)
    assert [r.id_hash for r in rows(dbsession, user_id=user.id)] == [
        row_of(dbsession, active).id_hash
    ]


@pytest.mark.parametrize("secure", [True, False])
@pytest.mark.parametrize(
    "session_id", ["a.1796549313.SK4OiugHaCasPZjfDaTpj4RPUAVxPRSur33bVauPzu0", "x-Y_z"]
)
def test_the_cookie_is_written_as_webob_writes_it(session_id, secure):
    webob = Response()
    webob.set_cookie(COOKIE, session_id, path="/", secure=secure, httponly=True, samesite="Lax")
    assert _cookie_text(session_id, secure) == webob.headers["Set-Cookie"]
