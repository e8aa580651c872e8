"""Walking the whole route table: every route with its views' permissions
and methods, its patterns filled with real object ids, the world they come
from (organisation B with one of everything, organisation A beside it), and
visitors that request them as someone.

Shared by the tenant isolation walk and the bad-input fuzz walk; import the
``world`` fixture into a test module to use it.
"""

import collections
import hashlib
import io
import itertools
import os
import re
from datetime import time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from consultroom_chat.models import Conversation
from consultroom_chat.models import Kind as ChatKind
from consultroom_payments.models import Charge, Payment, Rate, Receipt, VatRule
from consultroom_payments.models import Status as PaymentStatus
from consultroom_questionnaires import service as questionnaires
from consultroom_questionnaires.models import Questionnaire, Version
from consultroom_sso.models import Connection as SsoConnection
from consultroom_sso.models import Kind as SsoKind
from PIL import Image
from sqlalchemy import event, inspect

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clientmail.models import TemplateSet
from consultroom.clients.models import Client, Group, Participant
from consultroom.db import make_engine, utcnow
from consultroom.remotesupport.models import SupportToken
from consultroom.room.models import Room, RoomInvite, SharedFile
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.sessions.store import COOKIE
from consultroom.tenancy.models import Department
from consultroom.testing import migrated_database
from consultroom.waitingroom.models import ServiceMessage
from consultroom.webpages.models import WebImage, WebPage, WebPageSet
from consultroom.widgets.models import WalkInWidget

# A placeholder, with its regular expression (which may hold "{m,n}").
PLACEHOLDER = re.compile(r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}")
STAR = re.compile(r"\*\w+")
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64  # served as stored; never decoded


def _real_png():
    """A picture a client answered with: the plugin re-encodes uploads as
    PNG, and its PDF export decodes them."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def routes(registry):
    """(name, pattern, permissions of its views, methods to try) for every route."""
    introspector = registry.introspector
    result = []
    for intr in introspector.get_category("routes"):
        route = intr["introspectable"]
        views = [r for r in introspector.related(route) if r.category_name == "views"]
        methods = {"GET", "POST"}.union(*(_methods(view) for view in views))
        result.append(
            (
                route["name"],
                route["pattern"],
                {_permission(introspector, view) for view in views},
                sorted(methods),
            )
        )
    return result


def _methods(view):
    declared = view["request_methods"] or ()
    return {declared} if isinstance(declared, str) else set(declared)


def _permission(introspector, view):
    related = [r["value"] for r in introspector.related(view) if r.category_name == "permissions"]
    return related[0] if related else None


def fill(pattern, b):
    """Every URL the pattern gives with B's values for its placeholders."""
    pattern = "/" + STAR.sub("x", pattern).lstrip("/")
    names = PLACEHOLDER.findall(pattern)
    choices = [b.get(name, ["1"]) for name in names]
    urls = []
    for combination in itertools.product(*choices):
        values = iter(combination)
        urls.append(PLACEHOLDER.sub(lambda _m, values=values: str(next(values)), pattern))
    return urls


def _a_few(kind, organisation, fields):
    """Two objects of ``kind`` in ``organisation``; ``fields(n)`` gives the rest."""
    return [kind(organisation_id=organisation.id, **fields(n)) for n in range(2)]


# The plugins both organisations enable (B has rows of each).
PLUGINS = ("hello", "chat", "sso", "payments", "questionnaires")
# Rows added after organisation A are numbered from here in every table, far
# above what the database's sequences reach in a test run.
B_IDS_FROM = 1_000_000


def _number_alike(dbsession, start):
    """From now on, rows ``dbsession`` adds get ids ``start``, ``start + 1``,
    ... in each table alike, instead of the database's own numbering.

    B's objects of every kind then share the same few ids, so each route
    tried with them meets B's object of the kind it serves, and the walk
    makes as many requests on a fresh database as on one whose sequences
    earlier tests have moved on (PostgreSQL's do not roll back).
    """
    numbers = collections.defaultdict(lambda: itertools.count(start))

    def number(session, _context, _instances):
        for obj in session.new:
            key = inspect(obj).mapper.primary_key
            if len(key) == 1 and key[0].name == "id" and obj.id is None:
                obj.id = next(numbers[key[0].table])

    event.listen(dbsession, "before_flush", number)


def _organisation(make_organisation, enable_plugin, subdomain, **settings):
    """An organisation with a department and the plugins the walk covers."""
    org = make_organisation(subdomain, settings=settings)
    org.departments.append(Department(name="Care"))
    for plugin in PLUGINS:
        enable_plugin(org, plugin)  # flushes
    return org


def committed_on_postgresql(request, db_connection, _app_dbmaker, tmp_path):
    """``db_connection`` for the walks (the tests that use ``world``): on
    PostgreSQL, a connection to a migrated database of the test's own,
    outside any transaction, so that each request commits as in production
    (the fixtures commit what they made: ``world`` does). A module of walks
    sets it as its ``db_connection`` fixture.

    PostgreSQL keeps every version of a row updated in a transaction until
    the transaction ends: in the test's one transaction, the rows a walk
    writes on every request (its session, the audit chain's head and
    pending entries) made each later read of them slower, 20 to 30 times
    late in a walk of thousands of requests. SQLite keeps no versions (and
    commits there wait for the disk): the walk stays in the test's
    transaction."""
    server = os.environ.get("CONSULTROOM_TEST_DB", "")
    if not server.startswith("postgresql") or "world" not in request.fixturenames:
        yield db_connection
        return
    url, drop = migrated_database(server, tmp_path / "unused.sqlite")
    engine = make_engine({"sqlalchemy.url": url})
    connection = engine.connect()
    _app_dbmaker.configure(bind=connection)
    try:
        yield connection
    finally:
        connection.close()
        engine.dispose()
        drop()


@pytest.fixture
def world(app, make_organisation, make_user, enable_plugin, dbsession, tmp_path):
    a = _organisation(make_organisation, enable_plugin, "alpha")
    a_admin = make_user(a, role=Role.org_admin)
    _number_alike(dbsession, B_IDS_FROM)  # A is complete: the rest is B's
    b = _organisation(make_organisation, enable_plugin, "beta", strict_departments=True)
    b_dept = b.departments[0]
    # B has one of everything, complete (photos too), so a leak shows as a 200.
    b_users = [
        make_user(b, role=role, department_id=b_dept.id, photo=PNG)
        for role in (Role.org_admin, Role.dept_admin, Role.practitioner)
    ]
    b.logo = PNG
    clients = _a_few(
        Client,
        b,
        lambda n: {"last_name": f"Client {n}", "email": "c@example.org", "departments": [b_dept]},
    )
    groups = _a_few(Group, b, lambda n: {"name": f"Group {n}"})
    participants = _a_few(Participant, b, lambda n: {"last_name": f"P {n}", "groups": groups})
    appointments = [
        Appointment(
            organisation_id=b.id,
            client=c,
            practitioner=b_users[2],
            starts_at=utcnow() + timedelta(minutes=5),
            duration_minutes=20,
        )
        for c in clients
    ]
    blocks = _a_few(
        AvailabilityBlock,
        b,
        lambda n: {
            "practitioner_id": b_users[2].id,
            "weekday": n,
            "start_time": time(9),
            "end_time": time(12),
        },
    )
    template_sets = _a_few(TemplateSet, b, lambda n: {"name": f"Set {n}", "language": "en"})
    notices = _a_few(ServiceMessage, b, lambda n: {"text": f"Notice {n}"})
    widgets = _a_few(
        WalkInWidget, b, lambda n: {"name": f"Widget {n}", "logo": PNG, "background": PNG}
    )
    channels = [
        Conversation(organisation_id=b.id, kind=ChatKind.channel, client=c, department=b_dept)
        for c in clients
    ]
    # Single sign-on: an OpenID Connect provider nobody answers at, and a SAML one.
    sso_connections = [
        SsoConnection(
            organisation_id=b.id,
            name=f"SSO {kind.value}",
            button_text=f"Log in with {kind.value}",
            kind=kind,
            role=Role.practitioner,
            issuer="http://127.0.0.1:9" if kind is SsoKind.oidc else "",
            client_id="b-client",
        )
        for kind in (SsoKind.oidc, SsoKind.saml)
    ]
    dbsession.add_all(
        [
            *clients,
            *groups,
            *participants,
            *appointments,
            *blocks,
            *template_sets,
            *notices,
            *widgets,
            *channels,
            *sso_connections,
        ]
    )
    dbsession.flush()
    paid = _payments(dbsession, b, appointments)
    web = _web_pages(dbsession, b)
    asked, answered, answer_images = _questionnaires(dbsession, b, appointments, app.registry)
    superuser = make_user(None, role=Role.superuser)
    rooms, invites, files = _consultations(dbsession, b, appointments, b_users[2], tmp_path)
    support_tokens = ["support-token-of-beta-0000", "support-token-of-beta-0001"]
    dbsession.add_all(
        SupportToken(
            organisation_id=b.id,
            user_id=b_users[0].id,
            support_user_id=superuser.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=utcnow() + timedelta(minutes=2),
        )
        for token in support_tokens
    )
    dbsession.flush()
    objects = [
        b,
        b_dept,
        *b_users,
        *clients,
        *groups,
        *participants,
        *appointments,
        *blocks,
        *template_sets,
        *notices,
        *widgets,
        *channels,
        *sso_connections,
        *files,
        *paid,
        *web,
        *asked,
        *answered,
    ]
    b_values = {
        # Numbered alike: B_IDS_FROM, the next, and a few more for kinds B has more of.
        "id": sorted({o.id for o in objects}),
        "token": (
            [x.token for x in appointments]
            + [c.portal_token for c in clients]
            + [i.token for i in invites]
            + support_tokens
            + [r.token for r in answered]
        ),
        "public_id": [w.public_id for w in widgets]
        + [i.public_id for i in web if isinstance(i, WebImage)],
        "slug": [s.slug for s in web if isinstance(s, WebPageSet)],
        "plugin": list(PLUGINS),
        "image": answer_images,
        "number": [r.number for r in paid if isinstance(r, Receipt)],
        "provider": ["stripe", "paypal"],
        "room": [r.id for r in rooms],
        "user_id": [u.id for u in b_users],
    }
    dbsession.commit()
    return a, b, a_admin, superuser, b_values


def _questionnaires(dbsession, b, appointments, registry):
    """B's questionnaire (two versions), answered for each appointment by its
    client: a text and an image, encrypted as the plugin stores them. Its
    rows, the responses, and the images' ids."""
    fields = [
        {"key": key, "type": kind, "label": label, "help": "", "required": False}
        for key, kind, label in (("gp", "short_text", "Your GP"), ("rash", "image", "A photo"))
    ]
    questionnaire = Questionnaire(organisation_id=b.id)
    questionnaire.versions = [
        Version(organisation_id=b.id, number=n, title=f"Intake {n}", fields=fields) for n in (1, 2)
    ]
    dbsession.add(questionnaire)
    dbsession.flush()
    # What the plugin's service reads of a request.
    as_b = SimpleNamespace(dbsession=dbsession, organisation=b, registry=registry)
    responses, images = [], []
    for appointment in appointments:
        response = questionnaires.attach(as_b, questionnaire, appointment.client_id, appointment.id)
        images.append(questionnaires.store_image(as_b, response, "rash", _real_png()))
        answers = {"gp": "Dr. Bakker", "rash": images[-1]}
        questionnaires.store_answers(as_b, response, answers, finished=True)
        responses.append(response)
    dbsession.flush()
    return [questionnaire, *questionnaire.versions], responses, images


def _web_pages(dbsession, b):
    """B's images and two published page sets using them, each with a main
    and a follow-up page."""
    images = _a_few(
        WebImage,
        b,
        lambda n: {"name": f"Image {n}", "width": 1, "height": 1, "size": 1, "data": PNG},
    )
    sets = _a_few(
        WebPageSet,
        b,
        lambda n: {"name": f"Pages {n}", "slug": f"beta-pages-{n}", "published": True},
    )
    for page_set, image in zip(sets, images, strict=True):
        page_set.header_image = image
        page_set.pages = [
            WebPage(organisation_id=b.id, position=p, menu_title=f"Page {p}", main_image=image)
            for p in range(2)
        ]
    dbsession.add_all(sets)
    dbsession.flush()
    return [*images, *sets, *(p for s in sets for p in s.pages)]


def _payments(dbsession, b, appointments):
    """B's rates, VAT rules, its appointments charged and paid, with receipts."""
    rates = _a_few(
        Rate, b, lambda n: {"name": f"Rate {n}", "amount": Decimal(50), "currency": "EUR"}
    )
    rules = [
        VatRule(organisation_id=b.id, country="", kind=kind, rate=Decimal(21))
        for kind in ("private", "business")
    ]
    dbsession.add_all([*rates, *rules])
    dbsession.flush()
    charges = [
        Charge(organisation_id=b.id, appointment_id=a.id, rate_id=rate.id)
        for a, rate in zip(appointments, rates, strict=True)
    ]
    payments = [
        Payment(
            organisation_id=b.id,
            appointment_id=a.id,
            attempt=f"attempt-of-beta-{n:020d}",
            provider="stripe",
            provider_ref=f"cs_beta_{n}",
            status=PaymentStatus.paid,
            rate_name="Rate",
            currency="EUR",
            net=Decimal("41.32"),
            vat=Decimal("8.68"),
            gross=Decimal("50.00"),
            vat_rate=Decimal(21),
            payer_name="Client",
            payer_country="NL",
            paid_at=utcnow(),
        )
        for n, a in enumerate(appointments)
    ]
    dbsession.add_all([*charges, *payments])
    dbsession.flush()
    receipts = [
        Receipt(organisation_id=b.id, payment_id=p.id, number=n + 1, pdf=b"%PDF-1.4 B")
        for n, p in enumerate(payments)
    ]
    dbsession.add_all(receipts)
    dbsession.flush()
    return [*rates, *rules, *payments, *receipts]


def _consultations(dbsession, b, appointments, practitioner, tmp_path):
    """B's consultations in progress: rooms with a guest invite and a shared
    file on disk each (so that a leaked download would be a 200)."""
    rooms = [
        Room(organisation_id=b.id, appointment_id=a.id, created_by_id=practitioner.id)
        for a in appointments
    ]
    dbsession.add_all(rooms)
    dbsession.flush()
    invites = [RoomInvite(room_id=r.id, name="Guest", email="guest@example.org") for r in rooms]
    files = []
    for n, room in enumerate(rooms):
        path = tmp_path / f"shared-{n}.txt"
        path.write_text("B's shared file")
        files.append(
            SharedFile(
                room_id=room.id, name=path.name, size=15, content_type="text/plain", path=str(path)
            )
        )
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
        self.headers = {"Cookie": f"{COOKIE}={source.cookies[COOKIE]}"}
        testapp.reset()

    def __call__(self, method, url, params=None, headers=None, **kw):
        """The response, whatever its status; a POST's ``params`` default to
        the CSRF token alone."""
        headers = {**self.headers, **(headers or {})}
        send = getattr(self.testapp, method.lower())
        if params is None and method not in ("GET", "HEAD"):
            params = {"csrf_token": self.csrf}
        try:
            return send(url, params, headers=headers, expect_errors=True, **kw)
        finally:
            self.testapp.reset()


class KeyVisitor(Visitor):
    """An anonymous visitor that also sends an organisation's API key."""

    def __init__(self, testapp, key):
        super().__init__(testapp)
        self.headers = {**self.headers, "Authorization": f"Bearer {key}"}


def _is_console(testapp):
    return testapp.extra_environ["HTTP_HOST"].count(".") == 1
