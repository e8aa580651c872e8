"""Choosing a client by typing (clients.picker) on the appointment pages: the
matches offered as you type, scoped like the client list; the typed text
resolved without JavaScript (one match chosen, several offered, none a clear
error); and pages that do not grow with the number of clients."""

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment

from clients_support import errors, make_client, make_participant, post

NOW = datetime(2026, 6, 1, 8, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def doctor(make_user, org):
    return make_user(org, name="Dr. Jansen")


@pytest.fixture
def colleague(make_user, org):
    return make_user(org, name="Dr. Peters")


@pytest.fixture
def people(dbsession, org, doctor, colleague, make_organisation):
    return {
        "bakker": make_client(
            dbsession,
            org,
            "Bakker",
            initials="A.",
            client_number="N-17",
            email="a.bakker@example.org",
            practitioners=[doctor],
        ),
        "jansen": make_client(dbsession, org, "Jansen", initials="P.", practitioners=[doctor]),
        "janssens": make_client(
            dbsession, org, "Janssens", initials="K.", practitioners=[colleague]
        ),
        "foreign": make_client(dbsession, make_organisation("other"), "Bakkerman"),
    }


@pytest.fixture
def as_user(webtest, login):
    def log_in(user):
        app = webtest("clinic")
        login(app, user)
        return app

    return log_in


@pytest.fixture
def admin_app(as_user, make_user, org):
    return as_user(make_user(org, role=Role.org_admin, name="Ada Admin"))


def offered(app, q, status=200):
    response = app.get("/clients/picker", {"q": q}, status=status)
    return response.json if status == 200 else response


# ---- the matches offered as you type


def test_matches_by_name_number_and_address_with_labels(admin_app, people):
    assert offered(admin_app, "bakk") == {
        "matches": [{"id": people["bakker"].id, "label": "A. Bakker (N-17)"}],
        "more": False,
    }
    for q in ("n-1", "EXAMPLE.org", "a. bakker"):
        assert [c["id"] for c in offered(admin_app, q)["matches"]] == [people["bakker"].id], q
    assert [c["label"] for c in offered(admin_app, "jans")["matches"]] == [
        "P. Jansen",
        "K. Janssens",
    ]
    assert offered(admin_app, "")["matches"] == [] and offered(admin_app, "  ")["matches"] == []
    assert offered(admin_app, "nobody")["matches"] == []


def test_at_most_ten_are_offered_and_more_is_said(admin_app, dbsession, org):
    for n in range(12):
        make_client(dbsession, org, f"Visser {n:02d}")
    found = offered(admin_app, "visser")
    assert [c["label"] for c in found["matches"]] == [f"Visser {n:02d}" for n in range(10)]
    assert found["more"] is True


def test_matches_are_scoped_like_the_client_list(
    as_user, admin_app, dbsession, org, doctor, people
):
    # Another organisation's Bakkerman is never offered.
    assert [c["id"] for c in offered(admin_app, "bakker")["matches"]] == [people["bakker"].id]
    org.settings = {"strict_clients": True}
    dbsession.flush()
    doctor_app = as_user(doctor)
    assert [c["label"] for c in offered(doctor_app, "jans")["matches"]] == ["P. Jansen"]


def test_the_matches_are_for_staff_only_and_not_cached(webtest, admin_app, people):
    response = admin_app.get("/clients/picker", {"q": "bakk"})
    assert "no-store" in response.headers["Cache-Control"]
    anonymous = webtest("clinic").get("/clients/picker", {"q": "bakk"}, expect_errors=True)
    assert anonymous.status_int in (302, 303, 403) and "Bakker" not in anonymous.text
    # A read: no other method.
    post(admin_app, "/clients/picker", {"q": "bakk"}, status=404)


# ---- the typed text, without JavaScript


def appointment_form(client_fields, doctor):
    return {
        **client_fields,
        "practitioner_id": doctor.id,
        "date": "2026-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
    }


def booked(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalars(select(Appointment).where(Appointment.organisation_id == org.id)).all()


def test_one_match_is_chosen(admin_app, dbsession, org, doctor, people, smtp):
    data = appointment_form({"client_id": "", "client_id_text": "n-17"}, doctor)
    post(admin_app, "/appointments/new", data, status=303)
    assert [a.client for a in booked(dbsession, org)] == [people["bakker"]]


def test_several_matches_are_offered_to_choose_from(
    admin_app, dbsession, org, doctor, people, smtp
):
    data = appointment_form({"client_id": "", "client_id_text": "jans"}, doctor)
    page = post(admin_app, "/appointments/new", data, status=200)
    assert errors(page)["client_id"] == ["2 clients match “jans”: choose one below."]
    radios = page.html.select("input[type=radio][name=client_id]")
    assert [r["value"] for r in radios] == [str(people["jansen"].id), str(people["janssens"].id)]
    assert page.html.select_one("#client_id")["value"] == "jans"  # what was typed stays
    assert booked(dbsession, org) == []
    # The choice among them is taken.
    data["client_id"] = str(people["janssens"].id)
    post(admin_app, "/appointments/new", data, status=303)
    assert [a.client for a in booked(dbsession, org)] == [people["janssens"]]


def test_no_match_is_a_clear_error(admin_app, dbsession, org, doctor, people):
    for text in ("nobody", "bakkerman"):  # the other organisation's client is nobody here
        data = appointment_form({"client_id_text": text}, doctor)
        page = post(admin_app, "/appointments/new", data, status=200)
        assert errors(page)["client_id"][0].startswith(f"No client matches “{text}”")
    assert booked(dbsession, org) == []


def test_the_id_counts_only_with_its_label_or_among_the_matches(
    admin_app, dbsession, org, doctor, people, smtp
):
    bakker, jansen = people["bakker"], people["jansen"]
    # Chosen (by the script): the label, not itself a search, with the id.
    data = appointment_form({"client_id": bakker.id, "client_id_text": "A. Bakker (N-17)"}, doctor)
    post(admin_app, "/appointments/new", data, status=303)
    # Typed over without the script: the id left behind does not count.
    data = appointment_form({"client_id": bakker.id, "client_id_text": "P. Jansen"}, doctor)
    post(admin_app, "/appointments/new", {**data, "start_time": "11:00"}, status=303)
    # Emptied: no client.
    data = appointment_form({"client_id": bakker.id, "client_id_text": ""}, doctor)
    page = post(admin_app, "/appointments/new", data, status=200)
    assert errors(page)["client_id"] == ["Choose a client."]
    assert [a.client for a in booked(dbsession, org)] == [bakker, jansen]


def test_a_client_out_of_sight_is_not_chosen_by_id_or_text(as_user, dbsession, org, doctor, people):
    org.settings = {"strict_clients": True}
    dbsession.flush()
    doctor_app = as_user(doctor)
    janssens = people["janssens"]  # the colleague's client
    for fields in (
        {"client_id": janssens.id, "client_id_text": "K. Janssens"},
        {"client_id": janssens.id},
        {"client_id": people["foreign"].id, "client_id_text": "Bakkerman"},
    ):
        page = post(doctor_app, "/appointments/new", appointment_form(fields, doctor), status=200)
        assert errors(page)["client_id"], fields
    # "jans" is then only their own Jansen.
    data = appointment_form({"client_id_text": "jans"}, doctor)
    post(doctor_app, "/appointments/new", data, status=303)
    assert [a.client for a in booked(dbsession, org)] == [people["jansen"]]


def test_quick_consultation_takes_the_typed_client(admin_app, dbsession, org, people):
    data = {"client_id_text": "bakker", "duration_minutes": "20"}
    post(admin_app, "/appointments/quick", data, status=303)
    assert [a.client for a in booked(dbsession, org)] == [people["bakker"]]


def test_the_list_filter_takes_a_typed_client(admin_app, dbsession, org, doctor, people):
    for hour, client in enumerate((people["bakker"], people["jansen"], people["janssens"])):
        dbsession.add(
            Appointment(
                organisation_id=org.id,
                client=client,
                practitioner=doctor,
                starts_at=datetime(2026, 6, 10, 8 + hour, 0),
            )
        )
    dbsession.flush()

    def names(page):
        return [td.get_text(strip=True) for td in page.html.select("tbody tr td:nth-child(2)")]

    assert names(admin_app.get("/appointments", {"client_text": "n-17"})) == ["A. Bakker"]
    ambiguous = admin_app.get("/appointments", {"client_text": "jans"})
    assert errors(ambiguous)["client"] == ["2 clients match “jans”: choose one below."]
    chosen = {"client_text": "jans", "client": people["janssens"].id}
    assert names(admin_app.get("/appointments", chosen)) == ["K. Janssens"]
    # The page's own links (the pager) keep the choice with its label.
    assert names(
        admin_app.get(
            "/appointments", {"client_text": "A. Bakker (N-17)", "client": people["bakker"].id}
        )
    ) == ["A. Bakker"]
    none = admin_app.get("/appointments", {"client_text": "nobody"})
    assert errors(none)["client"][0].startswith("No client matches")


# ---- pages that do not grow with the clients


@pytest.mark.parametrize("url", ["/appointments", "/appointments/new", "/appointments/quick"])
def test_the_pages_do_not_grow_with_the_number_of_clients(admin_app, dbsession, org, people, url):
    before = admin_app.get(url).text
    for n in range(40):
        make_client(dbsession, org, f"Extra {n:02d}", client_number=f"X{n}")
    after = admin_app.get(url).text
    assert "Extra" not in after and "Bakker" not in after
    assert len(after) == len(before)


# ---- individual participants, typed too


@pytest.fixture
def relatives(dbsession, org, make_organisation):
    return {
        "moeder": make_participant(dbsession, org, "de Groot", initials="M.", email="m@fam.nl"),
        "vader": make_participant(dbsession, org, "de Groot", initials="V."),
        "tolk": make_participant(dbsession, org, "Tolk", email="tolk@vertaal.nl"),
        "foreign": make_participant(dbsession, make_organisation("elsewhere"), "Tolkien"),
    }


def test_participants_are_offered_as_you_type(admin_app, relatives):
    found = admin_app.get("/participants/picker", {"q": "tolk"}).json
    assert found == {"matches": [{"id": relatives["tolk"].id, "label": "Tolk"}], "more": False}
    assert [
        m["label"] for m in admin_app.get("/participants/picker", {"q": "groot"}).json["matches"]
    ] == ["M. de Groot", "V. de Groot"]


def test_participants_are_ticked_and_added_by_typing(
    admin_app, dbsession, org, doctor, people, relatives, smtp
):
    form = appointment_form({"client_id_text": "bakker"}, doctor)
    # One match is added to those ticked.
    data = {**form, "participant_ids": [relatives["moeder"].id], "participant_ids_text": "vertaal"}
    post(admin_app, "/appointments/new", data, status=303)
    [appointment] = booked(dbsession, org)
    assert {p.id for p in appointment.participants} == {
        relatives["moeder"].id,
        relatives["tolk"].id,
    }
    # Several: offered as boxes to tick, nothing saved until one is.
    data = {**form, "start_time": "11:00", "participant_ids_text": "groot"}
    page = post(admin_app, "/appointments/new", data, status=200)
    assert errors(page)["participant_ids"] == [
        "2 participants match “groot”: tick the ones meant below."
    ]
    boxes = page.html.select("input[type=checkbox][name=participant_ids]")
    assert [(b["value"], b.has_attr("checked")) for b in boxes] == [
        (str(relatives["moeder"].id), False),
        (str(relatives["vader"].id), False),
    ]
    post(
        admin_app,
        "/appointments/new",
        {**data, "participant_ids": relatives["vader"].id},
        status=303,
    )
    second = booked(dbsession, org)[1]
    assert [p.id for p in second.participants] == [relatives["vader"].id]


def test_unknown_participants_are_refused(admin_app, dbsession, org, doctor, people, relatives):
    form = appointment_form({"client_id_text": "bakker"}, doctor)
    for extra, says in (
        ({"participant_ids_text": "nobody"}, "No participant matches “nobody”"),
        ({"participant_ids_text": "tolkien"}, "No participant matches"),  # another organisation's
        ({"participant_ids": relatives["foreign"].id}, "Choose one of the options."),
        ({"participant_ids": "abc"}, "Choose one of the options."),
    ):
        page = post(admin_app, "/appointments/new", {**form, **extra}, status=200)
        assert errors(page)["participant_ids"][0].startswith(says), extra
    assert booked(dbsession, org) == []


def test_the_form_does_not_grow_with_the_number_of_participants(admin_app, dbsession, org):
    before = admin_app.get("/appointments/new").text
    for n in range(40):
        make_participant(dbsession, org, f"Familie {n:02d}")
    after = admin_app.get("/appointments/new").text
    assert "Familie" not in after and len(after) == len(before)
