"""The walk-in widget: configured by organisation admins; its public iframe
page lists who is available now (switched on, in a walk-in block covering
this moment, not booked, not in a consultation: shown as busy), and its
intake creates a client and a walk-in visit starting now, then leads to the
waiting room. Block purposes: booking ignores walk-in blocks."""

import io
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from PIL import Image
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.clients.models import Client
from consultroom.room.models import Room, RoomMember
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department
from consultroom.waitingroom import live
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.widgets.embed import OriginRejected, parse_origin
from consultroom.widgets.forms import clean_css
from consultroom.widgets.models import WalkInWidget
from consultroom.widgets.offer import walk_in_offer

NOW = datetime(2030, 6, 3, 8, 0)  # Monday, 10:00 in Amsterdam


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW.isoformat() + "Z", tick=False):
        yield


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care", timezone="Europe/Amsterdam")


@pytest.fixture
def departments(dbsession, org):
    made = [Department(organisation_id=org.id, name=n) for n in ("Physio", "Speech")]
    dbsession.add_all(made)
    dbsession.flush()
    return made


def available(dbsession, org, user, **when):
    dbsession.add(
        AvailabilityBlock(
            organisation_id=org.id,
            practitioner_id=user.id,
            start_time=when.pop("start", time(9)),
            end_time=when.pop("end", time(12)),
            **when,
        )
    )
    dbsession.flush()


@pytest.fixture
def staff(make_user, org, departments, dbsession):
    physio, speech = departments
    people = {
        "pia": make_user(org, name="Pia Physio", department_id=physio.id),
        "paul": make_user(org, name="Paul Physio", department_id=physio.id),
        "sam": make_user(org, name="Sam Speech", department_id=speech.id),
        "off": make_user(org, name="Olga Off", department_id=physio.id),
    }
    available(dbsession, org, people["pia"], weekday=0)  # Mondays
    available(dbsession, org, people["paul"], on_date=date(2030, 6, 3))  # today only
    available(dbsession, org, people["sam"], weekday=0)
    available(dbsession, org, people["off"], weekday=0, start=time(13), end=time(17))
    for user in people.values():
        switch(dbsession, user, True)
    return people


def switch(dbsession, user, on):
    """``user``'s walk-in switch, as the waiting room's socket sets it."""
    row = dbsession.get(WalkInSwitch, user.id)
    if row is None:
        row = WalkInSwitch(user_id=user.id, organisation_id=user.organisation_id)
        dbsession.add(row)
    row.available = on
    dbsession.flush()


@pytest.fixture
def widget(dbsession, org, departments):
    made = WalkInWidget(
        organisation_id=org.id,
        name="Physio walk-in",
        absence_text="Nobody right now, sorry.",
        opening_hours="Mondays 9–12",
        intake_fields=["last_name", "date_of_birth"],
        terms_text="Be kind.",
        departments=[departments[0]],
    )
    dbsession.add(made)
    dbsession.flush()
    return made


def walk_in_now(dbsession, org, widget):
    """The practitioners a visitor may walk in to now."""
    return walk_in_offer(dbsession, org, widget).available


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model))


def test_available_now_follows_availability_and_departments(dbsession, org, staff, widget):
    assert [u.name for u in walk_in_now(dbsession, org, widget)] == ["Paul Physio", "Pia Physio"]
    staff["pia"].active = False
    dbsession.flush()
    assert [u.name for u in walk_in_now(dbsession, org, widget)] == ["Paul Physio"]
    widget.departments = []  # none chosen: every practitioner
    dbsession.flush()
    assert [u.name for u in walk_in_now(dbsession, org, widget)] == ["Paul Physio", "Sam Speech"]
    with time_machine.travel("2030-06-03T12:30:00Z", tick=False):  # 14:30 local
        assert [u.name for u in walk_in_now(dbsession, org, widget)] == ["Olga Off"]
    with time_machine.travel("2030-06-10T08:00:00Z", tick=False):  # next Monday
        assert "Paul Physio" not in [u.name for u in walk_in_now(dbsession, org, widget)]


def test_public_page_lists_who_is_available(webtest, org, staff, widget, dbsession):
    org.embed_origins = ["https://www.acme.example", "http://localhost:8080"]
    dbsession.flush()
    app = webtest("acme")
    page = app.get(f"/walk-in/{widget.public_id}")
    assert "frame-ancestors 'self' https://www.acme.example http://localhost:8080" in page.headers[
        "Content-Security-Policy"
    ].split("; ")
    assert [a.get_text() for a in page.html.select(".walk-in-list a")] == [
        "Paul Physio",
        "Pia Physio",
    ]
    assert "Mondays 9–12" in page.text
    with time_machine.travel("2030-06-03T18:00:00Z", tick=False):
        page = app.get(f"/walk-in/{widget.public_id}")
        assert "Nobody right now, sorry." in page.text
        assert not page.html.select(".walk-in-list a")


def test_intake_creates_a_walk_in_and_leads_to_the_waiting_room(
    webtest, org, staff, widget, dbsession, smtp
):
    app = webtest("acme")
    page = app.get(f"/walk-in/{widget.public_id}").click("Pia Physio")
    form = page.forms[0]
    assert page.html.find("form")["target"] == "_top"
    assert set(form.fields) - {None} == {"form_token", "last_name", "date_of_birth", "terms"}
    assert "Be kind." in page.text
    form["last_name"] = "Visser"
    form["date_of_birth"] = "1980-02-03"
    form["terms"] = True
    response = form.submit(status=303)
    appointment = dbsession.scalars(select(Appointment)).one()
    assert response.location.endswith(f"/c/{appointment.token}")
    assert appointment.kind is Kind.walk_in
    assert appointment.starts_at == NOW
    assert appointment.practitioner_id == staff["pia"].id
    assert (appointment.client.last_name, appointment.client.date_of_birth) == (
        "Visser",
        date(1980, 2, 3),
    )
    assert smtp.messages == []  # no invitation for a visit starting now


def test_walk_ins_do_not_block_each_other(webtest, org, staff, widget, dbsession):
    app = webtest("acme")
    for name in ("Een", "Twee"):
        form = app.get(f"/walk-in/{widget.public_id}/{staff['pia'].id}").forms[0]
        form["last_name"], form["date_of_birth"], form["terms"] = name, "1980-02-03", True
        form.submit(status=303)
    assert count(dbsession, Appointment) == 2


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"last_name": ""}, "last_name", "This field is required."),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "Not a valid date value."),
        ({"date_of_birth": "2031-01-01"}, "date_of_birth", "Give a date of birth in the past."),
        ({"terms": False}, "terms", "Accept the terms to continue."),
    ],
)
def test_bad_intake_is_refused(webtest, org, staff, widget, dbsession, values, field, message):
    app = webtest("acme")
    form = app.get(f"/walk-in/{widget.public_id}/{staff['pia'].id}").forms[0]
    form["last_name"], form["date_of_birth"], form["terms"] = "Visser", "1980-02-03", True
    for key, value in values.items():
        form[key] = value
    response = form.submit(status=200)
    assert [e.get_text() for e in response.html.select(f"#{field}-help .error")] == [message]
    assert count(dbsession, Appointment) == 0 and count(dbsession, Client) == 0


def test_someone_not_available_cannot_be_chosen(webtest, org, staff, widget, dbsession):
    app = webtest("acme")
    for who in ("off", "sam"):  # not now; not in the widget's departments
        page = app.get(f"/walk-in/{widget.public_id}/{staff[who].id}", status=409)
        assert "no longer available" in page.text
    form = app.get(f"/walk-in/{widget.public_id}/{staff['pia'].id}").forms[0]
    form["last_name"], form["date_of_birth"], form["terms"] = "Visser", "1980-02-03", True
    staff["pia"].active = False
    dbsession.flush()
    form.submit(status=409)
    assert count(dbsession, Appointment) == 0 and count(dbsession, Client) == 0


def test_unknown_or_other_organisations_widget_is_not_found(
    webtest, org, make_organisation, dbsession, widget, staff
):
    other = make_organisation("other")
    theirs = WalkInWidget(organisation_id=other.id, name="Theirs")
    dbsession.add(theirs)
    dbsession.flush()
    app = webtest("acme")
    app.get(f"/walk-in/{theirs.public_id}", status=404)
    app.get(f"/walk-in/{theirs.public_id}/{staff['pia'].id}", status=404)
    app.get("/walk-in/nope", status=404)
    app.get(f"/walk-in/{widget.public_id}/logo.png", status=404)  # none uploaded


def png(width=400, height=200):
    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def admin_app(webtest, login, make_user, org):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    return app


def widget_form(page):
    [form] = [f for f in page.forms.values() if "intake_fields" in f.fields]
    return form


def test_admin_configures_a_widget(admin_app, dbsession, org, departments, staff):
    page = admin_app.get("/widgets").click("Add walk-in widget")
    form = widget_form(page)
    form["name"] = "Speech walk-in"
    form["departments"] = [str(departments[1].id)]
    form["opening_hours"] = "Mon 9-12"
    form["absence_text"] = "Back soon"
    form["primary_colour"] = "#AA0000"
    form["background_colour"] = "#ffffff"
    form["intake_fields"] = ["initials", "last_name", "email"]
    form["terms_text"] = "Terms"
    form["custom_css"] = "h1 { color: red } </STYLE><script>x</script> @import url(evil.css);"
    form["logo"] = ("logo.png", png())
    response = form.submit(status=303)
    assert response.location.endswith("/widgets")
    widget = dbsession.scalars(select(WalkInWidget)).one()
    assert widget.name == "Speech walk-in"
    assert [d.id for d in widget.departments] == [departments[1].id]
    assert widget.intake_fields == ["initials", "last_name", "email"]
    assert widget.primary_colour == "#aa0000"
    assert "</style" not in widget.custom_css.lower() and "@import" not in widget.custom_css
    with Image.open(io.BytesIO(widget.logo)) as image:
        assert image.size == (200, 100)  # fitted into 300 × 100
    public = admin_app.get(f"/walk-in/{widget.public_id}")
    assert [a.get_text() for a in public.html.select(".walk-in-list a")] == ["Sam Speech"]
    logo = admin_app.get(f"/walk-in/{widget.public_id}/logo.png")
    assert logo.content_type == "image/png"
    assert logo.headers["Content-Security-Policy"].startswith("frame-ancestors 'self'")
    # Editing keeps what was chosen.
    form = widget_form(admin_app.get(f"/widgets/walk-in/{widget.id}"))
    assert form["departments"].value == [str(departments[1].id)]
    form["remove_logo"] = True
    form.submit(status=303)
    dbsession.expire_all()
    assert widget.logo is None


def test_bad_widget_settings_are_refused(admin_app, dbsession, org, departments):
    url = "/widgets/walk-in/new"
    good = dict(widget_form(admin_app.get(url)).submit_fields())
    good.update(name="W", primary_colour="#112233", background_colour="#ffffff")
    cases = [
        ({"name": " "}, "name", "This field is required."),
        ({"primary_colour": "red"}, "primary_colour", "Use a colour like #1f6f8b."),
        ({"intake_fields": "password"}, "intake_fields", None),
        ({"departments": "999999"}, "departments", None),
        ({"departments": "abc"}, "departments", None),
    ]
    for values, field, message in cases:
        response = admin_app.post(url, {**good, **values}, status=200)
        errors = [e.get_text() for e in response.html.select(f"#{field}-help .error")]
        assert errors and (message is None or errors == [message]), (values, errors)
    response = admin_app.post(
        url, {**good}, upload_files=[("logo", "x.png", b"not an image")], status=200
    )
    assert "This file is not an image we can read." in response.text
    assert count(dbsession, WalkInWidget) == 0


def test_embed_origins_are_validated_and_saved(admin_app, dbsession, org):
    page = admin_app.get("/widgets").click("Websites that may show the widgets")
    [form] = [f for f in page.forms.values() if "origins" in f.fields]
    form["origins"] = "https://www.example.org/\n\nHTTP://LOCALHOST:8080\nhttps://a.example:443"
    form.submit(status=303)
    dbsession.expire_all()
    assert org.embed_origins == [
        "https://www.example.org",
        "http://localhost:8080",
        "https://a.example",
    ]
    for bad in (
        "https://www.example.org/path",
        "www.example.org",
        "https://*.example.org",
        "javascript:alert(1)",
        "https://x.org?q",
        "https://u:p@x.org",
        "https://x.org:99999",
        "https://exa mple.org",
        "https://x.org; script-src *",
    ):
        form["origins"] = bad
        response = form.submit(status=200)
        assert response.html.select("#origins-help .error"), bad
    dbsession.expire_all()
    assert len(org.embed_origins) == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://www.example.org", "https://www.example.org"),
        ("https://Example.org:8443/", "https://example.org:8443"),
        ("http://example.org:80", "http://example.org"),
    ],
)
def test_parse_origin(text, expected):
    assert parse_origin(text) == expected


def test_stored_bad_origin_cannot_inject_a_directive(webtest, org, widget, dbsession):
    org.embed_origins = ["https://ok.example", "https://x.org; script-src *"]
    dbsession.flush()
    page = webtest("acme").get(f"/walk-in/{widget.public_id}")
    policy = page.headers["Content-Security-Policy"].split("; ")
    assert "frame-ancestors 'self' https://ok.example" in policy
    assert "script-src 'self'" in policy and "script-src *" not in policy
    with pytest.raises(OriginRejected):
        parse_origin("ftp://x.org")


def test_clean_css_cannot_be_reassembled():
    assert clean_css("@im@importport url(x)") == " url(x)"
    assert "</style" not in clean_css("<</sty</stylele>").lower()


def names(users):
    return [u.name for u in users]


def listed(page):
    """(offered, busy) names on the widget page, as a visitor sees them."""
    offered = page.html.select_one("[data-available-section]")
    busy = page.html.select_one("[data-busy-section]")
    return (
        [] if offered.has_attr("hidden") else [a.get_text() for a in offered.select("a")],
        [] if busy.has_attr("hidden") else [li.get_text() for li in busy.select("li")],
    )


def test_the_switch_off_always_wins(webtest, org, staff, widget, dbsession):
    switch(dbsession, staff["pia"], False)  # inside her walk-in time
    assert listed(webtest("acme").get(f"/walk-in/{widget.public_id}")) == (["Paul Physio"], [])
    dbsession.delete(dbsession.get(WalkInSwitch, staff["paul"].id))  # never switched on
    dbsession.flush()
    page = webtest("acme").get(f"/walk-in/{widget.public_id}")
    assert listed(page) == ([], [])
    assert not page.html.select_one("[data-absence]").has_attr("hidden")
    webtest("acme").get(f"/walk-in/{widget.public_id}/{staff['pia'].id}", status=409)


def test_only_walk_in_time_is_offered(dbsession, org, staff, widget):
    pia, paul = staff["pia"], staff["paul"]
    block_of = {b.practitioner_id: b for b in dbsession.scalars(select(AvailabilityBlock))}
    block_of[pia.id].purpose, block_of[paul.id].purpose = "booking", "walk_in"
    dbsession.flush()
    assert names(walk_in_now(dbsession, org, widget)) == ["Paul Physio"]
    widget.departments = []
    dbsession.flush()
    # Switched on with no walk-in time now (Olga's block starts at 13:00).
    assert names(walk_in_now(dbsession, org, widget)) == ["Paul Physio", "Sam Speech"]


def book(dbsession, org, user, starts_at, minutes=20, kind=Kind.appointment, **values):
    client = Client(organisation_id=org.id, last_name="Booked")
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner_id=user.id,
        starts_at=starts_at,
        duration_minutes=minutes,
        kind=kind,
        **values,
    )
    dbsession.add_all([client, appointment])
    dbsession.flush()
    return appointment


def test_a_booked_time_is_never_offered_to_walk_ins(webtest, dbsession, org, staff, widget):
    pia, paul = staff["pia"], staff["paul"]
    running = book(dbsession, org, pia, datetime(2030, 6, 3, 7, 50))  # 09:50–10:10 local
    soon = book(dbsession, org, paul, datetime(2030, 6, 3, 8, 15))  # within a walk-in's 20 min
    offer = walk_in_offer(dbsession, org, widget)
    assert (names(offer.available), names(offer.busy)) == ([], [])
    app = webtest("acme")
    assert listed(app.get(f"/walk-in/{widget.public_id}")) == ([], [])
    app.get(f"/walk-in/{widget.public_id}/{pia.id}", status=409)
    # The widget wakes when Pia's booking ends (10:10 local).
    assert offer.changes_at == datetime(2030, 6, 3, 8, 10)
    with time_machine.travel("2030-06-03T08:10:00Z", tick=False):
        assert names(walk_in_now(dbsession, org, widget)) == ["Pia Physio"]
    # Walk-ins queue and do not count; a cancelled booking frees the time.
    running.kind = Kind.walk_in
    soon.status = Status.cancelled
    dbsession.flush()
    assert names(walk_in_now(dbsession, org, widget)) == ["Paul Physio", "Pia Physio"]
    later = book(dbsession, org, pia, datetime(2030, 6, 3, 8, 30))  # 10:30: not yet in the way
    assert names(walk_in_now(dbsession, org, widget)) == ["Paul Physio", "Pia Physio"]
    assert walk_in_offer(dbsession, org, widget).changes_at == later.starts_at - timedelta(
        minutes=20
    )


def test_in_a_consultation_is_shown_as_busy(webtest, dbsession, org, staff, widget):
    pia = staff["pia"]
    room = Room(organisation_id=org.id, created_by_id=pia.id)
    dbsession.add(room)
    dbsession.flush()
    member = RoomMember(peer="p1", room_id=room.id, role="staff", name=pia.name, user_id=pia.id)
    dbsession.add(member)
    dbsession.flush()
    app = webtest("acme")
    page = app.get(f"/walk-in/{widget.public_id}")
    assert listed(page) == (["Paul Physio"], ["Pia Physio"])
    assert page.html.select_one("[data-absence]").has_attr("hidden")
    app.get(f"/walk-in/{widget.public_id}/{pia.id}", status=409)
    data = app.get(f"/walk-in/{widget.public_id}/available.json").json
    assert (data["type"], [p["name"] for p in data["busy"]]) == ("walk_in_list", ["Pia Physio"])
    member.left_at = NOW
    dbsession.flush()
    assert listed(app.get(f"/walk-in/{widget.public_id}")) == (
        ["Paul Physio", "Pia Physio"],
        [],
    )
    # In a room that ended (left behind by a process that died): not busy.
    member.left_at = None
    room.ended_at = NOW
    dbsession.flush()
    assert names(walk_in_offer(dbsession, org, widget).busy) == []


def test_a_nameless_walk_in_is_stored_untranslated_and_shown_in_the_readers_language(
    webtest, org, staff, widget, dbsession, login
):
    widget.intake_fields = ["date_of_birth"]
    dbsession.flush()
    # The visitor reads German.
    visitor = webtest("acme")
    page = visitor.get(f"/walk-in/{widget.public_id}", headers={"Accept-Language": "de"}).click(
        "Pia Physio"
    )
    form = page.forms[0]
    form["date_of_birth"], form["terms"] = "1980-02-03", True
    form.submit(headers={"Accept-Language": "de"}, status=303)
    appointment = dbsession.scalars(select(Appointment)).one()
    assert appointment.client.last_name == "Walk-in visitor"

    # A Dutch-speaking practitioner's page, and the organisation's lists (Swedish).
    pia = staff["pia"]
    pia.language = "nl"
    org.language = "sv"
    dbsession.flush()
    staff_app = webtest("acme")
    login(staff_app, pia)
    client_page = staff_app.get(f"/clients/{appointment.client_id}")
    assert "Bezoeker inloopspreekuur" in client_page.text
    assert "Walk-in visitor" not in client_page.text
    assert live.client_name(appointment) == "Drop-in-besökare"
