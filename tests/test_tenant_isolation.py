"""Tenant isolation, walked over the whole route table.

Every route (core and plugin) is requested with organisation A's staff
session, and again with A's API key, against organisation B: on B's
subdomain, and on A's own subdomain with B's object IDs in the URL. Neither
may succeed. Every protected route is also requested without a session. New
routes are covered automatically.
"""
import hashlib
import itertools
import re
from datetime import time, timedelta

import pytest

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.audit.models import SupportToken
from consultroom.clientmail.models import TemplateSet
from consultroom.clients.models import Client, Group, Participant
from consultroom.db import utcnow
from consultroom.realtime.models import Room, RoomInvite, SharedFile
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department
from consultroom.waitingroom.models import ServiceMessage
from consultroom.widgets.models import WalkInWidget

PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
STAR = re.compile(r"\*\w+")
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64  # served as stored; never decoded


def _routes(registry):
    """(name, pattern, permissions of its views, methods to try) for every route."""
    introspector = registry.introspector
    result = []
    for intr in introspector.get_category("routes"):
        route = intr["introspectable"]
        views = [r for r in introspector.related(route) if r.category_name == "views"]
        methods = {"GET", "POST"}.union(*(_methods(view) for view in views))
        result.append((route["name"], route["pattern"],
                       {_permission(introspector, view) for view in views}, sorted(methods)))
    return result


def _methods(view):
    declared = view["request_methods"] or ()
    return {declared} if isinstance(declared, str) else set(declared)


def _permission(introspector, view):
    related = [r["value"] for r in introspector.related(view) if r.category_name == "permissions"]
    return related[0] if related else None


def _fill(pattern, b):
    """Every URL the pattern gives with B's values for its placeholders."""
    pattern = "/" + STAR.sub("x", pattern).lstrip("/")
    names = PLACEHOLDER.findall(pattern)
    choices = [b.get(name, ["1"]) for name in names]
    urls = []
    for combination in itertools.product(*choices):
        values = iter(combination)
        urls.append(PLACEHOLDER.sub(lambda m: str(next(values)), pattern))
    return urls


def _a_few(kind, organisation, fields):
    """Two objects of ``kind`` in ``organisation``; ``fields(n)`` gives the rest."""
    return [kind(organisation_id=organisation.id, **fields(n)) for n in range(2)]


@pytest.fixture
def world(make_organisation, make_user, enable_plugin, dbsession, tmp_path):
    a = make_organisation("alpha")
    b = make_organisation("beta", settings={"strict_departments": True})
    for org in (a, b):
        dbsession.add(Department(organisation_id=org.id, name="Care"))
        enable_plugin(org, "hello")
    dbsession.flush()
    a_admin = make_user(a, role=Role.org_admin)
    a_ids = {a.id, a_admin.id, *(d.id for d in a.departments)}
    b_dept = b.departments[0]
    # B has one of everything, complete (photos too), so a leak shows as a 200.
    b_users = [make_user(b, role=role, department_id=b_dept.id, photo=PNG)
               for role in (Role.org_admin, Role.dept_admin, Role.practitioner)]
    b.logo = PNG
    clients = _a_few(Client, b, lambda n: {"last_name": f"Client {n}", "email": "c@example.org",
                                             "departments": [b_dept]})
    groups = _a_few(Group, b, lambda n: {"name": f"Group {n}"})
    participants = _a_few(Participant, b, lambda n: {"last_name": f"P {n}", "groups": groups})
    appointments = [Appointment(organisation_id=b.id, client=c, practitioner=b_users[2],
                                starts_at=utcnow() + timedelta(minutes=5), duration_minutes=20)
                    for c in clients]
    blocks = _a_few(AvailabilityBlock, b, lambda n: {
        "practitioner_id": b_users[2].id, "weekday": n, "start_time": time(9),
        "end_time": time(12)})
    template_sets = _a_few(TemplateSet, b, lambda n: {"name": f"Set {n}", "language": "en"})
    notices = _a_few(ServiceMessage, b, lambda n: {"text": f"Notice {n}"})
    widgets = _a_few(WalkInWidget, b, lambda n: {"name": f"Widget {n}", "logo": PNG,
                                                 "background": PNG})
    dbsession.add_all([*clients, *groups, *participants, *appointments, *blocks,
                       *template_sets, *notices, *widgets])
    dbsession.flush()
    superuser = make_user(None, role=Role.superuser)
    rooms, invites, files = _consultations(dbsession, b, appointments, b_users[2], tmp_path)
    support_tokens = ["support-token-of-beta-0000", "support-token-of-beta-0001"]
    dbsession.add_all(SupportToken(
        organisation_id=b.id, user_id=b_users[0].id, support_user_id=superuser.id,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=utcnow() + timedelta(minutes=2)) for token in support_tokens)
    dbsession.flush()
    objects = [b, b_dept, *b_users, *clients, *groups, *participants, *appointments, *blocks,
               *template_sets, *notices, *widgets, *files]
    b_values = {
        # An id that happens to be one of A's own (in another table) is left
        # out: A opening its own object is no leak. There are two of each kind.
        "id": sorted({o.id for o in objects} - a_ids),
        "token": ([x.token for x in appointments] + [c.portal_token for c in clients]
                  + [i.token for i in invites] + support_tokens),
        "public_id": [w.public_id for w in widgets],
        "plugin": ["hello"],
        "room": [r.id for r in rooms],
        "user_id": [u.id for u in b_users],
    }
    return a, b, a_admin, superuser, b_values


def _consultations(dbsession, b, appointments, practitioner, tmp_path):
    """B's consultations in progress: rooms with a guest invite and a shared
    file on disk each (so that a leaked download would be a 200)."""
    rooms = [Room(organisation_id=b.id, appointment_id=a.id, created_by_id=practitioner.id)
             for a in appointments]
    dbsession.add_all(rooms)
    dbsession.flush()
    invites = [RoomInvite(room_id=r.id, name="Guest", email="guest@example.org") for r in rooms]
    files = []
    for n, room in enumerate(rooms):
        path = tmp_path / f"shared-{n}.txt"
        path.write_text("B's shared file")
        files.append(SharedFile(room_id=room.id, name=path.name, size=15,
                                content_type="text/plain", path=str(path)))
    dbsession.add_all([*invites, *files])
    dbsession.flush()
    return rooms, invites, files


class Visitor:
    """Requests on one host, as anonymous or with someone's session cookie.

    Anonymous visitors carry their own valid CSRF token, so that a POST is
    compared with one that passed the CSRF check too. The cookie is sent
    explicitly and the cookie jar emptied after each request, so that a
    response (a logout, say) cannot change who the next request is from.
    """

    def __init__(self, testapp, session_from=None):
        self.testapp = testapp
        source = session_from or testapp
        if session_from is None:
            page = source.get("/login")
        else:  # any logged-in page: the logout form carries the token
            page = source.get("/" if _is_console(source) else "/profile")
        self.csrf = page.forms[0]["csrf_token"].value
        self.headers = {"Cookie": f"consultroom={source.cookies['consultroom']}"}
        testapp.reset()

    def __call__(self, method, url):
        headers = self.headers
        send = getattr(self.testapp, method.lower())
        try:
            if method in ("GET", "HEAD"):
                return send(url, headers=headers, expect_errors=True)
            return send(url, {"csrf_token": self.csrf}, headers=headers, expect_errors=True)
        finally:
            self.testapp.reset()


class KeyVisitor(Visitor):
    """An anonymous visitor that also sends an organisation's API key."""

    def __init__(self, testapp, key):
        super().__init__(testapp)
        self.headers = {**self.headers, "Authorization": f"Bearer {key}"}


def _is_console(testapp):
    return testapp.extra_environ["HTTP_HOST"].count(".") == 1


def _succeeded(response):
    if response.status_int >= 400:
        return False
    location = response.headers.get("Location", "")
    return not (300 <= response.status_int < 400 and "/login" in location)


# Routes that end the session they are sent with: walked last, or every
# later POST of that visitor (and of its anonymous baseline) would fail its
# CSRF check and prove nothing.
SESSION_ENDING = {"logout", "logout_everywhere", "support_end"}


def _differs(got, baseline):
    """A visitor got more than the anonymous baseline: a different answer that
    is not a refusal. (A session cookie from another site finds no session
    here, so its POSTs fail the CSRF check where the baseline's pass.)"""
    return got.status_int != baseline.status_int and _succeeded(got)


def _urls(app, b_values):
    routes = sorted(_routes(app.registry), key=lambda route: route[0] in SESSION_ENDING)
    for _name, pattern, perms, methods in routes:
        for url in _fill(pattern, b_values):
            for method in methods:
                yield pattern, perms, url, method


@pytest.fixture
def a_sends(webtest, login, world, dbsession):
    """Visitors on a host ("alpha", "beta" or "" for the console) carrying
    organisation A's admin session or A's API key."""
    a, b, a_admin, superuser, b_values = world
    app_a = webtest("alpha")
    login(app_a, a_admin)
    key = a.rotate_api_key()
    dbsession.flush()
    assert KeyVisitor(webtest("alpha"), key)("GET", "/api/v1/clients").status_int == 200

    def visitor(credential, host):
        if credential == "session":
            return Visitor(webtest(host), session_from=app_a)
        return KeyVisitor(webtest(host), key)

    return visitor


# One test per credential and place: every request of a test runs in one
# database transaction, and PostgreSQL's lock table bounds how many a
# transaction may make.
@pytest.mark.parametrize("credential, host", [
    ("session", "beta"), ("session", ""), ("API key", "beta")])
def test_organisation_a_on_b_gets_what_an_anonymous_visitor_gets(
        app, webtest, world, a_sends, credential, host):
    *_, b_values = world
    visitor, anonymous = a_sends(credential, host), Visitor(webtest(host))
    differences = []
    for _pattern, _perms, url, method in _urls(app, b_values):
        got, baseline = visitor(method, url), anonymous(method, url)
        if _differs(got, baseline):
            differences.append((method, url, got.status_int, baseline.status_int))
    assert differences == []


@pytest.mark.parametrize("credential", ["session", "API key"])
def test_b_ids_in_organisation_a_urls_get_nothing(app, world, a_sends, credential):
    *_, b_values = world
    visitor = a_sends(credential, "alpha")
    successes = []
    checked = 0
    for pattern, _perms, url, method in _urls(app, b_values):
        if PLACEHOLDER.search(pattern):
            checked += 1
            if _succeeded(visitor(method, url)):
                successes.append((method, url))
    assert checked > 40
    assert successes == []


def test_superuser_session_means_nothing_on_an_organisation(app, webtest, login, world):
    a, b, a_admin, superuser, b_values = world
    console = webtest()
    login(console, superuser)
    su_on_b = Visitor(webtest("beta"), session_from=console)
    anonymous_b = Visitor(webtest("beta"))
    differences = []
    for _pattern, _perms, url, method in _urls(app, b_values):
        got, baseline = su_on_b(method, url), anonymous_b(method, url)
        if _differs(got, baseline):
            differences.append((method, url, got.status_int, baseline.status_int))
    assert differences == []


def test_protected_routes_need_a_session(app, webtest, world):
    a, b, a_admin, superuser, b_values = world
    visitors = [Visitor(webtest("beta")), Visitor(webtest())]
    successes = []
    protected = set()
    for pattern, perms, url, method in _urls(app, b_values):
        if perms <= {None}:
            continue  # a public page: login, set-password link, static files
        protected.add(pattern)
        for visitor in visitors:
            if _succeeded(visitor(method, url)):
                successes.append((method, visitor.testapp.extra_environ["HTTP_HOST"], url))
    assert len(protected) > 15
    assert successes == []
