"""The REST API: clients and appointments with the organisation's API key or a
staff session, segregation, tenant isolation, JSON errors and the OpenAPI
document."""

import base64
import json
from datetime import datetime

import pytest
from sqlalchemy import event, select

from consultroom.accounts.models import Role
from consultroom.api import ROUTES
from consultroom.api.openapi import OPERATIONS
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.clients.models import Client, Participant
from consultroom.tenancy.models import Department

FUTURE = "2031-03-04T10:00:00+01:00"  # 09:00 UTC


class Api:
    """JSON calls on one organisation's site, with a key or a session."""

    def __init__(self, testapp, key=None, csrf=None):
        self.testapp, self.key, self.csrf = testapp, key, csrf

    def headers(self):
        headers = {}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def __call__(self, method, url, body=None, status=None, **kw):
        call = getattr(
            self.testapp, f"{method.lower()}_json" if body is not None else method.lower()
        )
        args = (url, body) if body is not None else (url,)
        return call(
            *args,
            headers={**self.headers(), **kw.pop("headers", {})},
            status=status,
            expect_errors=True,
            **kw,
        )


@pytest.fixture
def world(make_organisation, make_user, dbsession):
    org = make_organisation("alpha")
    other = make_organisation("beta")
    care = Department(organisation_id=org.id, name="Care")
    dbsession.add(care)
    dbsession.flush()
    admin = make_user(org, role=Role.org_admin)
    p1 = make_user(org, department_id=care.id, name="Practitioner One")
    p2 = make_user(org, department_id=care.id, name="Practitioner Two")
    key, other_key = org.rotate_api_key(), other.rotate_api_key()
    c1 = Client(
        organisation_id=org.id,
        last_name="Jansen",
        initials="A.",
        email="a@example.org",
        client_number="N-1",
        practitioners=[p1],
        departments=[care],
    )
    c2 = Client(
        organisation_id=org.id,
        last_name="Pietersen",
        initials="B.",
        email="b@example.org",
        client_number="N-2",
        practitioners=[p2],
        departments=[care],
    )
    foreign = Client(organisation_id=other.id, last_name="Elsewhere")
    dbsession.add_all([c1, c2, foreign])
    dbsession.flush()
    foreign_appointment = Appointment(
        organisation_id=other.id,
        client_id=foreign.id,
        practitioner_id=make_user(other).id,
        starts_at=datetime(2031, 1, 1, 9),
    )
    dbsession.add(foreign_appointment)
    dbsession.flush()
    return dict(
        org=org,
        other=other,
        care=care,
        admin=admin,
        p1=p1,
        p2=p2,
        key=key,
        other_key=other_key,
        c1=c1,
        c2=c2,
        foreign=foreign,
        foreign_appointment=foreign_appointment,
    )


@pytest.fixture
def api(webtest, world):
    return Api(webtest("alpha"), key=world["key"])


def session_api(webtest, login, user):
    testapp = webtest("alpha")
    login(testapp, user)
    csrf = testapp.get("/profile").forms[0]["csrf_token"].value
    return Api(testapp, csrf=csrf)


def book(api, client, practitioner, starts_at=FUTURE, status=201, **extra):
    body = {
        "client_id": client.id,
        "practitioner_id": practitioner.id,
        "starts_at": starts_at,
        **extra,
    }
    return api("POST", "/api/v1/appointments", body, status=status)


# ---- the document


def test_openapi_document_is_public_and_covers_every_api_view(app, webtest, world):
    doc = webtest("alpha").get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["apiKey"] == {"type": "http", "scheme": "bearer"}
    documented = {(op.route, op.method.upper()) for op in OPERATIONS}
    assert {(path, method) for path, ops in doc["paths"].items() for method in ops} == {
        (op.path, op.method) for op in OPERATIONS
    }
    introspector = app.registry.introspector
    registered = set()
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        if (intr["route_name"] or "").startswith("api.") and intr["route_name"] != "api.openapi":
            registered.add((intr["route_name"], intr["request_methods"]))
    assert registered == documented
    assert set(ROUTES) - {"api.openapi"} == {route for route, _m in documented}


# ---- authentication


def test_without_credentials_the_answer_is_a_json_401(webtest, world):
    response = Api(webtest("alpha"))("GET", "/api/v1/clients", status=401)
    assert response.content_type == "application/json"
    assert "API key" in response.json["error"] and response.json["details"] == []
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_or_another_organisations_key_is_refused(webtest, world):
    for key in ("crk_wrong", world["other_key"], ""):
        response = Api(webtest("alpha"), key=key)("GET", "/api/v1/clients", status=401)
        assert response.json["error"] == "This API key is not valid here."
    # The other key does work on its own organisation.
    Api(webtest("beta"), key=world["other_key"])("GET", "/api/v1/clients", status=200)


def test_failed_keys_are_rate_limited_per_address(webtest, world):
    wrong = Api(webtest("alpha"), key="crk_wrong")
    for _ in range(20):
        wrong("GET", "/api/v1/clients", status=401)
    assert wrong("GET", "/api/v1/clients", status=429).json["error"].startswith("Too many")
    # Even the right key waits from that address; another address is not blocked.
    Api(webtest("alpha"), key=world["key"])("GET", "/api/v1/clients", status=429)
    Api(webtest("alpha"), key=world["key"])(
        "GET", "/api/v1/clients", status=200, extra_environ={"REMOTE_ADDR": "192.0.2.99"}
    )


def test_a_session_needs_the_csrf_header_for_changes(webtest, login, world):
    staff = session_api(webtest, login, world["admin"])
    staff("GET", "/api/v1/clients", status=200)
    body = {"last_name": "Smit"}
    refused = Api(staff.testapp)("POST", "/api/v1/clients", body, status=403)
    assert "CSRF" in refused.json["error"]
    staff("POST", "/api/v1/clients", body, status=201)


def test_the_key_is_no_session_elsewhere(webtest, world):
    """An organisation's key means nothing on the console."""
    console = Api(webtest(), key=world["key"])
    assert console("GET", "/api/v1/clients", status=404).json["error"] == "Not found."


# ---- clients


def test_client_crud_with_the_api_key(api, world, dbsession):
    care = world["care"]
    body = {
        "initials": "C.",
        "last_name": " de Vries ",
        "date_of_birth": "1980-02-29",
        "email": "c@example.org",
        "phone": "+31 6 1234",
        "client_number": "EHR-9",
        "language": "nl",
        "department_ids": [care.id],
        "practitioner_ids": [world["p1"].id],
    }
    created = api("POST", "/api/v1/clients", body, status=201).json
    assert created["last_name"] == "de Vries" and created["department_ids"] == [care.id]
    assert created["created_at"].endswith("Z")
    url = f"/api/v1/clients/{created['id']}"
    assert api("GET", url, status=200).json == created
    changed = api("PATCH", url, {"phone": "112", "practitioner_ids": []}, status=200).json
    assert changed["phone"] == "112" and changed["practitioner_ids"] == []
    assert changed["last_name"] == "de Vries"  # left out: unchanged
    api("DELETE", url, status=204)
    api("GET", url, status=404)
    assert dbsession.get(Client, created["id"]) is None


def test_client_list_searches_and_pages(api, world):
    listed = api("GET", "/api/v1/clients", status=200).json
    assert [c["last_name"] for c in listed["items"]] == ["Jansen", "Pietersen"]
    assert listed["limit"] == 50 and listed["next_cursor"] is None
    assert "total" not in listed  # counted only when asked
    assert api("GET", "/api/v1/clients", params={"total": "true"}).json["total"] == 2
    for q in ("jans", "N-2", "b@example", "a. jansen"):
        found = api("GET", "/api/v1/clients", params={"q": q}).json["items"]
        assert len(found) == 1, q
    assert api("GET", "/api/v1/clients", params={"q": "%"}).json["items"] == []
    first = api("GET", "/api/v1/clients", params={"limit": 1, "total": "1"}).json
    assert [c["last_name"] for c in first["items"]] == ["Jansen"] and first["total"] == 2
    page = api("GET", "/api/v1/clients", params={"limit": 1, "cursor": first["next_cursor"]}).json
    assert [c["last_name"] for c in page["items"]] == ["Pietersen"]
    assert page["next_cursor"] is None


def test_pages_follow_each_other_without_gaps_or_repeats(api, world, dbsession):
    """Clients with the same name are told apart by their id; a client added
    before the cursor's place does not shift the pages after it."""
    org = world["org"]
    dbsession.add_all(
        [Client(organisation_id=org.id, last_name="Smit", initials=i) for i in "BAAB"]
    )
    dbsession.flush()
    seen, params = [], {"limit": 2}
    while True:
        page = api("GET", "/api/v1/clients", params=params, status=200).json
        seen += [(c["last_name"], c["initials"], c["id"]) for c in page["items"]]
        if page["next_cursor"] is None:
            break
        if len(seen) == 2:
            dbsession.add(Client(organisation_id=org.id, last_name="Aa"))
            dbsession.flush()
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == sorted(seen) and len(seen) == 6
    assert [name for name, _, _ in seen].count("Smit") == 4


def _with_key(cursor, key):
    """``cursor`` with another sort key."""
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return base64.urlsafe_b64encode(json.dumps([*payload[:4], key]).encode()).decode()


def test_a_cursor_that_is_not_ours_is_a_clear_400(api, world, webtest):
    first = api("GET", "/api/v1/clients", params={"limit": 1}).json["next_cursor"]
    appointments = "/api/v1/appointments"
    for cursor in (
        "x",
        "%%%",
        "eyJ",
        first[:-3],
        first + "AAAA",
        "W10",  # []
        "A" * 1000,
        # Ours, with a sort key that is not a client's.
        *(
            _with_key(first, key)
            for key in (
                ["Jansen", 5],
                [1, 2, 3],
                ["a\x00", "", 1],
                ["a", "", True],
                ["\ud800", "", 1],
            )
        ),
    ):
        body = api("GET", "/api/v1/clients", params={"cursor": cursor}, status=400).json
        assert body["error"].startswith("The cursor is not valid"), cursor
    # Another list's, or the same list's with other filters.
    for url, params in (
        (appointments, {"cursor": first}),
        ("/api/v1/clients", {"cursor": first, "q": "jans"}),
    ):
        body = api("GET", url, params=params, status=400).json
        assert "another list or other filters" in body["error"], url
    # Another organisation's: its list is not ours, whatever the key says.
    foreign = Api(webtest("beta"), key=world["other_key"])
    body = foreign("GET", "/api/v1/clients", params={"cursor": first}, status=400).json
    assert "another list or other filters" in body["error"]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"last_name": "X", "colour": "red"}, "colour", "Unknown field."),
        ({}, "last_name", "This field is required."),
        ({"last_name": "   "}, "last_name", "String should have at least 1 character"),
        ({"last_name": 5}, "last_name", "Input should be a valid string"),
        (
            {"last_name": "X", "department_ids": [10**30]},
            "department_ids.0",
            "Input should be less than or equal to 2147483647",
        ),
        (
            {"last_name": "X", "department_ids": ["1"]},
            "department_ids.0",
            "Input should be a valid integer",
        ),
        ({"last_name": "X\x00"}, "last_name", "must not contain NUL characters"),
        ({"last_name": "X", "email": "not an address"}, "email", "String should match pattern"),
        ({"last_name": "X", "language": "fr"}, "language", "Input should be"),
        (
            {"last_name": "X", "date_of_birth": "2999-01-01"},
            "date_of_birth",
            "must not be in the future",
        ),
    ],
)
def test_invalid_clients_are_refused_per_field(api, dbsession, body, field, message):
    before = dbsession.scalar(select(Client.id).order_by(Client.id.desc()))
    response = api("POST", "/api/v1/clients", body, status=422)
    assert response.json["error"] == "Some fields are not valid."
    [problem] = response.json["details"]
    assert problem["field"] == field and problem["message"].startswith(message)
    assert dbsession.scalar(select(Client.id).order_by(Client.id.desc())) == before


def test_bodies_that_are_not_json_are_refused(api):
    for raw, content_type, status in (
        (b"{bad", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"last_name": "X"}', "text/plain", 415),
        (b"\xff\xfe", "application/json", 400),
    ):
        response = api.testapp.post(
            "/api/v1/clients",
            raw,
            headers={**api.headers(), "Content-Type": content_type},
            expect_errors=True,
        )
        assert response.status_int == status and response.json["error"], raw
    assert api("POST", "/api/v1/clients", [1], status=422).json["details"][0]["field"] == ""


def test_bad_query_parameters_are_422(api):
    for params in (
        {"limit": "0"},
        {"limit": "x"},
        {"offset": "1"},  # pages are chosen by cursor
        {"total": "perhaps"},
        {"sort": "x"},
        {"q": "a\x00"},
    ):
        assert api("GET", "/api/v1/clients", params=params, status=422).json["details"]
    problems = api(
        "GET", "/api/v1/appointments", params={"from": "2024-01-01T10:00"}, status=422
    ).json["details"]
    assert problems == [
        {
            "field": "from",
            "message": (
                "Give the time with its UTC offset, e.g. 2024-05-01T09:00:00+02:00"
                " or 2024-05-01T07:00:00Z."
            ),
        }
    ]


def test_another_organisations_ids_are_404(api, world):
    foreign, appointment = world["foreign"], world["foreign_appointment"]
    api("GET", f"/api/v1/clients/{foreign.id}", status=404)
    api("PATCH", f"/api/v1/clients/{foreign.id}", {"phone": "1"}, status=404)
    api("DELETE", f"/api/v1/clients/{foreign.id}", status=404)
    api("GET", f"/api/v1/appointments/{appointment.id}", status=404)
    api("PATCH", f"/api/v1/appointments/{appointment.id}", {"message": "x"}, status=404)
    api("POST", f"/api/v1/appointments/{appointment.id}/cancel", status=404)
    api("GET", "/api/v1/clients/999999999999999999", status=404)
    assert appointment.status is Status.scheduled
    # In a body, another organisation's id is an unknown id of that field.
    response = api(
        "POST",
        "/api/v1/clients",
        {"last_name": "X", "practitioner_ids": [appointment.practitioner_id]},
        status=422,
    )
    assert response.json["details"][0]["field"] == "practitioner_ids"
    response = book(api, foreign, world["p1"], status=422)
    assert response.json["details"] == [
        {"field": "client_id", "message": f"Unknown id: {foreign.id}."}
    ]


def test_unknown_methods_are_json_405(api):
    response = api("PUT", "/api/v1/clients", status=405)
    assert response.json["error"] == "This method is not allowed here."
    assert api("GET", "/api/v1/nothing", status=404).json["error"] == "Not found."


# ---- appointments


def test_appointment_lifecycle_with_mail(api, world, smtp, dbsession):
    c1, p1 = world["c1"], world["p1"]
    group = Participant(organisation_id=world["org"].id, last_name="Interpreter")
    dbsession.add(group)
    dbsession.flush()
    created = book(
        api, c1, p1, duration_minutes=30, message="Bring your list", participant_ids=[group.id]
    ).json
    assert created["starts_at"] == "2031-03-04T09:00:00Z"
    assert created["ends_at"] == "2031-03-04T09:30:00Z"
    assert created["status"] == "scheduled" and created["participant_ids"] == [group.id]
    assert [m["To"] for m in smtp.messages] == ["a@example.org"]
    url = f"/api/v1/appointments/{created['id']}"
    assert api("GET", url, status=200).json == created

    moved = api("PATCH", url, {"starts_at": "2031-03-05T08:00:00Z"}, status=200).json
    assert moved["starts_at"] == "2031-03-05T08:00:00Z" and moved["message"] == "Bring your list"
    assert len(smtp.messages) == 2  # the change notice

    cancelled = api("POST", f"{url}/cancel", status=200).json
    assert cancelled["status"] == "cancelled" and len(smtp.messages) == 3
    api("POST", f"{url}/cancel", status=200)  # twice: harmless, no second mail
    assert len(smtp.messages) == 3
    response = api("PATCH", url, {"message": "x"}, status=409)
    assert response.json["error"] == "This appointment has been cancelled."


def test_a_taken_slot_is_409_and_stores_nothing(api, world, smtp, dbsession):
    book(api, world["c1"], world["p1"])
    response = book(api, world["c2"], world["p1"], status=409)
    assert "just taken" in response.json["error"]
    assert len(smtp.messages) == 1
    count = dbsession.scalars(
        select(Appointment).where(Appointment.organisation_id == world["org"].id)
    ).all()
    assert len(count) == 1


def test_appointment_input_is_checked(api, world):
    c1, p1 = world["c1"], world["p1"]
    naive = book(api, c1, p1, starts_at="2031-03-04T10:00:00", status=422).json
    assert naive["details"][0]["field"] == "starts_at"
    assert "UTC offset" in naive["details"][0]["message"]
    assert book(api, c1, p1, starts_at="1970-01-01T00:00:00Z", status=422).json["details"]
    assert book(api, c1, p1, duration_minutes=10**12, status=422).json["details"]
    assert book(api, c1, p1, duration_minutes=True, status=422).json["details"]
    no_one = api(
        "POST", "/api/v1/appointments", {"client_id": c1.id, "starts_at": FUTURE}, status=422
    ).json
    assert no_one["error"] == "Choose a practitioner or a department."


def test_appointment_list_filters(api, world):
    c1, c2, p1, p2 = world["c1"], world["c2"], world["p1"], world["p2"]
    first = book(api, c1, p1, "2031-03-04T09:00:00Z").json
    second = book(api, c2, p2, "2031-03-05T09:00:00Z").json
    third = book(api, c1, p2, "2031-03-06T09:00:00Z").json
    api("POST", f"/api/v1/appointments/{third['id']}/cancel", status=200)

    def ids(**params):
        return [
            a["id"]
            for a in api("GET", "/api/v1/appointments", params=params, status=200).json["items"]
        ]

    assert ids() == [first["id"], second["id"], third["id"]]
    assert ids(**{"from": "2031-03-05T10:00:00+01:00"}) == [second["id"], third["id"]]
    assert ids(to="2031-03-05T09:00:00Z") == [first["id"]]
    assert ids(practitioner=p2.id) == [second["id"], third["id"]]
    assert ids(client=c1.id, status="scheduled") == [first["id"]]
    assert ids(status="cancelled") == [third["id"]]
    scheduled = {"status": "scheduled", "limit": 1}
    listed = api("GET", "/api/v1/appointments", params=scheduled).json
    assert [a["id"] for a in listed["items"]] == [first["id"]]
    following = api(
        "GET", "/api/v1/appointments", params={**scheduled, "cursor": listed["next_cursor"]}
    ).json
    assert [a["id"] for a in following["items"]] == [second["id"]]
    assert following["next_cursor"] is None  # the second was the last


# ---- segregation through the API


@pytest.fixture
def strict(world, dbsession):
    world["org"].settings = {"strict_clients": True}
    dbsession.flush()
    return world


def test_strict_clients_practitioner_sees_only_own_clients(webtest, login, api, strict):
    c1, c2, p1, p2 = strict["c1"], strict["c2"], strict["p1"], strict["p2"]
    theirs = book(api, c2, p2).json  # booked by the key, which sees everything
    mine = book(api, c1, p1, "2031-03-05T09:00:00Z").json
    p1_api = session_api(webtest, login, p1)

    listed = p1_api("GET", "/api/v1/clients", status=200).json
    assert [c["id"] for c in listed["items"]] == [c1.id]
    assert p1_api("GET", "/api/v1/clients", params={"total": "true"}).json["total"] == 1
    assert p1_api("GET", "/api/v1/clients", params={"q": "Pietersen"}).json["items"] == []
    assert p1_api("GET", "/api/v1/clients", params={"q": "N-2", "total": "true"}).json["total"] == 0
    p1_api("GET", f"/api/v1/clients/{c2.id}", status=404)
    p1_api("PATCH", f"/api/v1/clients/{c2.id}", {"phone": "1"}, status=404)
    p1_api("DELETE", f"/api/v1/clients/{c2.id}", status=404)
    p1_api("GET", f"/api/v1/clients/{c1.id}", status=200)

    appointments = p1_api("GET", "/api/v1/appointments", status=200).json["items"]
    assert [a["id"] for a in appointments] == [mine["id"]]
    p1_api("GET", f"/api/v1/appointments/{theirs['id']}", status=404)
    p1_api("POST", f"/api/v1/appointments/{theirs['id']}/cancel", status=404)
    assert (
        book(p1_api, c2, p1, "2031-03-07T09:00:00Z", status=422).json["details"][0]["field"]
        == "client_id"
    )
    # Booking their own client with someone else would hide it from them.
    book(p1_api, c1, p2, "2031-03-08T09:00:00Z", status=403)
    # The key still sees both.
    assert api("GET", "/api/v1/clients", params={"total": "true"}).json["total"] == 2


def test_a_practitioners_new_client_is_theirs(webtest, login, strict, dbsession):
    p1_api = session_api(webtest, login, strict["p1"])
    created = p1_api("POST", "/api/v1/clients", {"last_name": "Nieuw"}, status=201).json
    assert created["practitioner_ids"] == [strict["p1"].id]
    assert created["department_ids"] == [strict["care"].id]
    # Giving the client away would put it out of sight: refused, nothing changed.
    p1_api(
        "PATCH",
        f"/api/v1/clients/{created['id']}",
        {"practitioner_ids": [strict["p2"].id]},
        status=403,
    )
    client = dbsession.get(Client, created["id"])
    dbsession.refresh(client)
    assert [p.id for p in client.practitioners] == [strict["p1"].id]


# ---- what a list costs


def _statements_of(db_engine, call):
    """The SQL statements ``call()`` sends (the chainer's included: the
    tests link audit entries in the request, after its commit)."""
    sent = []

    def note(_connection, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(db_engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(db_engine, "before_cursor_execute", note)
    return [s for s in sent if s.split(" ", 1)[0] in {"SELECT", "INSERT", "UPDATE", "DELETE"}]


def test_an_appointment_list_costs_the_same_statements_however_long(
    api, world, db_engine, dbsession
):
    """One read of the page with its participants, then the audit entry: no
    statement per appointment or participant (a page holds up to 100)."""
    c1, p1 = world["c1"], world["p1"]
    group = [Participant(organisation_id=world["org"].id, last_name=f"P{n}") for n in range(3)]
    dbsession.add_all(group)
    dbsession.flush()
    book(api, c1, p1, "2031-03-04T09:00:00Z")

    def listing():
        api("GET", "/api/v1/appointments", status=200)

    one = _statements_of(db_engine, listing)
    for day in range(5, 17):
        book(api, c1, p1, f"2031-03-{day:02}T09:00:00Z", participant_ids=[p.id for p in group])
    thirteen = _statements_of(db_engine, listing)
    assert len(thirteen) == len(one)
    reads = [s for s in thirteen if s.startswith("SELECT") and " FOR UPDATE" not in s]
    page = reads[0]
    assert page.rsplit(" FROM ", 1)[1].startswith("appointment ")
    assert [s for s in thirteen if "appointment_participant" in s] == [page]


@pytest.mark.parametrize("enum", [Kind, Status])
def test_an_appointment_kind_and_status_are_stored_as_their_values(enum):
    """The list reads them as stored (their names) for their values."""
    assert [member.name for member in enum] == [member.value for member in enum]


def test_a_listed_appointment_is_what_its_own_url_shows(api, world, dbsession):
    """The list builds its JSON without pydantic, the single answer with it:
    the same fields, values and formats."""
    c1, c2, p1 = world["c1"], world["c2"], world["p1"]
    group = [Participant(organisation_id=world["org"].id, last_name=f"P{n}") for n in range(2)]
    dbsession.add_all(group)
    dbsession.flush()
    book(api, c1, p1, "2031-03-04T09:00:00Z", participant_ids=[group[1].id, group[0].id])
    second = book(api, c2, p1, "2031-03-05T09:30:00+01:00", message="Bring your list")
    api("POST", f"/api/v1/appointments/{second.json['id']}/cancel", status=200)
    listed = api("GET", "/api/v1/appointments", status=200).json["items"]
    assert len(listed) == 2
    assert listed[0]["participant_ids"] == sorted(p.id for p in group)
    assert [a["status"] for a in listed] == ["scheduled", "cancelled"]
    assert listed == [api("GET", f"/api/v1/appointments/{a['id']}").json for a in listed]
