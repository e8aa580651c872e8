"""The room's extras (issue 19, consultroom.room.extras, backgrounds, effects):
the settings' https-only addresses; the admin's background images (checked
uploads, never another organisation's); the background effects on the room
pages with the CSP they need and without them when hidden; the waiting
room's frames each in its place and nowhere else, with ``frame-src`` naming
exactly their origins on that page only; "stop if the webcam fails"; the
booking widget's count of free times; and the ``background`` socket message.
The pixels of the blur: tests/browser/test_room_extras_in_the_browser.py."""

import io
from datetime import date, datetime, time

import pytest
import time_machine
from PIL import Image
from room_support import open_room
from sqlalchemy import select
from webtest import Upload

from consultroom.accounts.models import Role
from consultroom.appointments.models import AppointmentParticipant
from consultroom.clients.models import Participant
from consultroom.room import extras
from consultroom.room.models import BackgroundImage
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Organisation
from consultroom.tenancy.options import ADVANCED_SETTINGS, SettingsError

from realtime_support import consultation as in_room
from realtime_support import staff_socket

FRAMES = {
    "explainer_url": "https://video.example:8443/embed/abc?x=1",
    "info_frame_url": "https://www.clinic.example/about",
    "evaluation_url": "https://forms.example/e/xyz",
}
ORIGINS = {
    "explainer_url": "https://video.example:8443",
    "info_frame_url": "https://www.clinic.example",
    "evaluation_url": "https://forms.example",
}


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def admin_app(webtest, login, make_user, org):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    return app


def png(size=(1600, 900), colour=(20, 120, 40), fmt="PNG"):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def csp(response):
    """The response's Content-Security-Policy: {directive: its sources}."""
    pairs = (
        p.strip().partition(" ") for p in response.headers["Content-Security-Policy"].split(";")
    )
    return {name: value.strip() for name, _space, value in pairs if name}


def fresh(dbsession, org):
    dbsession.expire_all()
    return dbsession.get(Organisation, org.id)


def advanced_form(app, field):
    page = app.get("/organisation/advanced")
    [form] = [
        f
        for f in page.forms.values()
        if "/organisation/advanced?section=" in f.action and field in f.fields
    ]
    return form


# -- the settings ------------------------------------------------------------------


@pytest.mark.parametrize("field", sorted(FRAMES))
@pytest.mark.parametrize(
    "value",
    [
        "http://video.example/embed",
        "javascript:alert(1)",
        "https://",
        "https://user:pw@video.example/",
        "https://video.example/a b",
        "https://video.example/'none'",
        "https://video.example:99999/",
        "video.example",
    ],
)
def test_an_address_that_is_not_https_is_refused_and_nothing_saved(
    admin_app, dbsession, org, field, value
):
    form = advanced_form(admin_app, field)
    form[field] = value
    response = form.submit(status=200)
    help_ = response.html.find(id=f"{field}-help")
    assert "https address" in help_.get_text() or "Invalid URL" in help_.get_text()
    assert "Nothing in this section was saved" in response.text
    assert fresh(dbsession, org).settings == {}


def test_the_command_line_refuses_them_too():
    for key in FRAMES:
        with pytest.raises(SettingsError, match="https address"):
            ADVANCED_SETTINGS.validate({key: "http://video.example/"})
    assert ADVANCED_SETTINGS.validate(FRAMES)["explainer_url"] == FRAMES["explainer_url"]


def test_https_addresses_are_saved(admin_app, dbsession, org):
    for key, value in FRAMES.items():
        form = advanced_form(admin_app, key)
        form[key] = f"  {value} "
        assert form.submit().status_int == 303
    assert {k: fresh(dbsession, org).options[k] for k in FRAMES} == FRAMES


# -- background images -------------------------------------------------------------


def upload(app, name="Office", data=None, filename="office.png", status=None):
    page = app.get("/organisation/backgrounds")
    [form] = [f for f in page.forms.values() if f.action == ""]
    form["name"] = name
    if data is not None:
        form["image"] = Upload(filename, data)
    return form.submit(status=status)


def images(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalars(
        select(BackgroundImage).where(BackgroundImage.organisation_id == org.id)
    ).all()


def test_an_uploaded_image_is_scaled_listed_and_served(admin_app, dbsession, org):
    upload(admin_app, data=png(), status=303).follow()
    [image] = images(dbsession, org)
    assert image.name == "Office"
    with Image.open(io.BytesIO(image.image)) as stored:
        assert stored.format == "PNG" and stored.size == (1280, 720)
    page = admin_app.get("/organisation/backgrounds")
    assert page.html.select_one(f"[data-background='{image.id}']") is not None
    served = admin_app.get(f"/backgrounds/{image.id}.png")
    assert served.content_type == "image/png" and served.body == image.image
    # The menu leads there.
    assert "/organisation/backgrounds" in admin_app.get("/").text


@pytest.mark.parametrize(
    "name, data, filename, message",
    [
        ("Office", b"not an image at all", "office.png", "not an image we can read"),
        ("Office", b"%PDF-1.4 fake", "office.pdf", "not an image we can read"),
        ("Office", None, None, "Choose an image file."),
        ("   ", "png", "office.png", "This field is required."),
        ("x" * 101, "png", "office.png", "longer than 100"),
        ("Office", b"\0" * (4 * 1024 * 1024 + 1), "big.png", "larger than 4096 KB"),
    ],
)
def test_bad_uploads_are_refused_with_a_message_and_nothing_saved(
    admin_app, dbsession, org, name, data, filename, message
):
    if data == "png":
        data = png()
    response = upload(admin_app, name=name, data=data, filename=filename, status=200)
    assert message in response.text
    assert images(dbsession, org) == []


def test_a_bmp_is_refused(admin_app, dbsession, org):
    response = upload(admin_app, data=png((20, 20), fmt="BMP"), filename="a.bmp", status=200)
    assert "Upload a PNG, JPEG, GIF or WebP image." in response.text
    assert images(dbsession, org) == []


def test_at_most_twelve_images(admin_app, dbsession, org):
    for number in range(12):
        dbsession.add(BackgroundImage(organisation_id=org.id, name=f"n{number}", image=png((4, 4))))
    dbsession.flush()
    response = upload(admin_app, data=png(), status=200)
    assert "the most there may be" in response.text
    assert len(images(dbsession, org)) == 12


def test_delete_and_another_organisations_image_is_not_found(
    admin_app, dbsession, org, make_organisation
):
    other = make_organisation("other")
    theirs = BackgroundImage(organisation_id=other.id, name="Theirs", image=png((4, 4)))
    mine = BackgroundImage(organisation_id=org.id, name="Mine", image=png((4, 4)))
    dbsession.add_all([theirs, mine])
    dbsession.flush()
    token = admin_app.get("/organisation/backgrounds").html.find(
        "input", attrs={"name": "csrf_token"}
    )["value"]
    admin_app.get(f"/backgrounds/{theirs.id}.png", status=404)
    admin_app.post(
        f"/organisation/backgrounds/{theirs.id}/delete", {"csrf_token": token}, status=404
    )
    assert "Theirs" not in admin_app.get("/organisation/backgrounds").text
    mine_id, theirs_id = mine.id, theirs.id
    admin_app.post(f"/organisation/backgrounds/{mine_id}/delete", {"csrf_token": token}, status=303)
    dbsession.expire_all()
    assert dbsession.get(BackgroundImage, mine_id) is None
    assert dbsession.get(BackgroundImage, theirs_id) is not None


def test_only_organisation_admins_manage_them(webtest, login, make_user, org, dbsession):
    image = BackgroundImage(organisation_id=org.id, name="Mine", image=png((4, 4)))
    dbsession.add(image)
    dbsession.flush()
    app = webtest("acme")
    login(app, make_user(org, role=Role.practitioner))
    app.get("/organisation/backgrounds", status=403)
    token = app.get("/").html.find("input", attrs={"name": "csrf_token"})["value"]
    app.post(f"/organisation/backgrounds/{image.id}/delete", {"csrf_token": token}, status=403)
    assert len(images(dbsession, org)) == 1


@pytest.mark.parametrize("token", [None, "wrong"])
def test_the_forms_need_the_csrf_token(admin_app, dbsession, org, token):
    image = BackgroundImage(organisation_id=org.id, name="Mine", image=png((4, 4)))
    dbsession.add(image)
    dbsession.flush()
    fields = {"name": "Office"} | ({"csrf_token": token} if token else {})
    admin_app.post(
        "/organisation/backgrounds", fields, upload_files=[("image", "a.png", png())], status=400
    )
    admin_app.post(f"/organisation/backgrounds/{image.id}/delete", fields, status=400)
    assert [i.name for i in images(dbsession, org)] == ["Mine"]


# -- background effects in the room ------------------------------------------------


@pytest.fixture
def room(dbsession, org, make_user):
    doctor = make_user(org, role=Role.practitioner)
    appointment, opened = open_room(dbsession, org, doctor)
    return doctor, appointment, opened


def room_pages(webtest, login, room):
    doctor, appointment, opened = room
    staff = webtest("acme")
    login(staff, doctor)
    return {
        "staff": staff.get(f"/room/{opened.id}"),
        "client": webtest("acme").get(f"/c/{appointment.token}"),
    }


def test_the_room_offers_the_effects_with_the_admins_images(webtest, login, room, dbsession, org):
    dbsession.add(BackgroundImage(organisation_id=org.id, name="Beach", image=png((4, 4))))
    dbsession.flush()
    for role, response in room_pages(webtest, login, room).items():
        page = response.html
        assert page.select_one("[data-room-button=effects]") is not None, role
        tab = page.select_one("[data-room-tab-panel=effects] [data-effects]")
        values = [i["value"] for i in tab.select("input[type=radio]")]
        assert values == ["none", "blur", "image"], role
        assert page.select_one("script[src='/static/js/effects.js']") is not None
        # The page may compile WebAssembly (the model), and nothing else is loosened.
        policy = csp(response)
        assert policy["script-src"] == "'self' 'wasm-unsafe-eval'", role
        assert "unsafe-eval'" not in policy["script-src"].replace("'wasm-unsafe-eval'", "")
        # No notice unless the organisation asks for it.
        assert page.select_one("[data-background-notice]") is None


def test_the_hide_setting_hides_the_control(webtest, login, room, dbsession, org):
    org.settings = {"background_effects": False}
    dbsession.flush()
    for role, response in room_pages(webtest, login, room).items():
        assert "data-effects" not in response.text, role
        assert (
            "effects.js" not in response.text and 'data-room-button="effects"' not in response.text
        )
        assert csp(response)["script-src"] == "'self'", role


def test_without_the_fetched_model_no_effects_are_offered(
    webtest, login, room, tmp_path, monkeypatch
):
    monkeypatch.setattr(extras, "MODEL", tmp_path)
    for role, response in room_pages(webtest, login, room).items():
        assert "data-effects" not in response.text, role
        assert csp(response)["script-src"] == "'self'", role


def test_the_model_is_served_from_the_installation(webtest):
    if not extras.model_present():
        pytest.fail("run scripts/fetch-segmentation first", pytrace=False)
    app = webtest("acme")
    for name in ("selfie_segmentation.js", "selfie_segmentation_landscape.tflite"):
        assert app.get(f"/segmentation/{name}").body == (extras.MODEL / name).read_bytes()
    app.get("/segmentation/../extras.py", status=404)


def test_the_notice_is_there_when_the_organisation_asks(webtest, login, room, dbsession, org):
    org.settings = {"background_warning": True}
    dbsession.flush()
    for role, response in room_pages(webtest, login, room).items():
        page = response.html
        assert page.select_one("[data-room-overlay=background-notice] [data-background-notice]")
        assert page.select_one("[data-effects]")["data-warn"] == "on", role


# -- the waiting room's frames -----------------------------------------------------


def frames_of(page):
    """The page's frames, without those in a <template> (not in the
    document until the template is used; whether a selector looks inside
    one differs between soupsieve's releases)."""
    return {
        f["data-frame"]: f
        for f in page.select("iframe[data-frame]")
        if f.find_parent("template") is None
    }


def test_each_frame_is_in_its_place(webtest, login, room, dbsession, org):
    org.settings = dict(FRAMES)
    dbsession.flush()
    pages = room_pages(webtest, login, room)
    client = pages["client"]
    page = client.html
    found = frames_of(page)
    # The explainer plays in the waiting part; the organisation's page waits
    # behind its button (no address until clicked); the evaluation is not in
    # the page at all, only in the template shown after the end.
    assert set(found) == {"explainer", "info"}
    assert found["explainer"]["src"] == FRAMES["explainer_url"]
    assert found["explainer"].find_parent(attrs={"data-waiting-part": True}) is not None
    assert (
        "src" not in found["info"].attrs and found["info"]["data-src"] == FRAMES["info_frame_url"]
    )
    assert found["info"].find_parent(id="more-info-panel").has_attr("hidden")
    assert page.select_one("[data-action=more-info]").get_text() == "More information"
    template = page.select_one("template[data-evaluation]")
    assert template.select_one("iframe[data-frame=evaluation]")["src"] == FRAMES["evaluation_url"]
    assert sorted(csp(client)["frame-src"].split()) == sorted(ORIGINS.values())
    # The staff's room has none of them, and frames nothing.
    staff = pages["staff"]
    assert frames_of(staff.html) == {} and "template data-evaluation" not in staff.text
    assert "frame-src" not in csp(staff) and csp(staff)["default-src"] == "'self'"


@pytest.mark.parametrize("key", sorted(FRAMES))
def test_one_frame_allows_its_origin_only(webtest, login, room, dbsession, org, key):
    org.settings = {key: FRAMES[key]}
    dbsession.flush()
    pages = room_pages(webtest, login, room)
    client = pages["client"]
    assert csp(client)["frame-src"] == ORIGINS[key]
    for other in set(FRAMES) - {key}:
        assert FRAMES[other] not in client.text
    staff = pages["staff"]
    assert FRAMES[key] not in staff.text and "frame-src" not in csp(staff)


def test_no_frames_no_frame_src(webtest, login, room):
    client = room_pages(webtest, login, room)["client"]
    assert "data-waiting-extras" not in client.text
    assert "frame-src" not in csp(client)


def test_an_extra_participant_gets_no_evaluation_nor_the_clients_check_link(
    webtest, room, dbsession, org
):
    org.settings = {**FRAMES, "stop_if_webcam_fails": True}
    _doctor, appointment, _room = room
    participant = Participant(organisation_id=org.id, initials="", last_name="Tolk")
    dbsession.add(participant)
    dbsession.flush()
    link = AppointmentParticipant(appointment_id=appointment.id, participant_id=participant.id)
    dbsession.add(link)
    dbsession.flush()
    response = webtest("acme").get(f"/p/{link.token}")
    page = response.html
    assert page.select_one("[data-evaluation]") is None
    assert page.select_one("[data-waiting-extras]")["data-check-url"] == ""
    assert sorted(csp(response)["frame-src"].split()) == sorted(
        ORIGINS[k] for k in ("explainer_url", "info_frame_url")
    )


# -- stop if the webcam fails ------------------------------------------------------


def test_the_client_page_knows_where_to_go_when_the_camera_fails(
    webtest, login, room, dbsession, org
):
    _doctor, appointment, _room = room
    client = room_pages(webtest, login, room)["client"]
    assert "data-check-url" not in client.text
    org.settings = {"stop_if_webcam_fails": True}
    dbsession.flush()
    client = room_pages(webtest, login, room)["client"]
    check = client.html.select_one("[data-waiting-extras]")["data-check-url"]
    assert check == f"/c/{appointment.token}/network-test?camera=failed"
    assert "frame-src 'none'" in client.headers["Content-Security-Policy"]
    page = webtest("acme").get(check).html
    notice = page.select_one("[data-camera-failed]")
    assert notice["data-back"] == f"/c/{appointment.token}"
    assert page.select_one("script[src='/static/js/camera-return.js']") is not None
    plain = webtest("acme").get(f"/c/{appointment.token}/network-test")
    assert "data-camera-failed" not in plain.text


# -- remaining booking options -----------------------------------------------------


@pytest.fixture
def bookable(make_user, org, dbsession):
    user = make_user(org, role=Role.practitioner, name="Dr Jansen")
    for day in (date(2030, 6, 4), date(2030, 8, 20)):  # this week and weeks later
        dbsession.add(
            AvailabilityBlock(
                organisation_id=org.id,
                practitioner_id=user.id,
                on_date=day,
                start_time=time(9),
                end_time=time(11),
                slot_minutes=20,
                gap_minutes=10,
            )
        )
    dbsession.flush()
    return user


def test_the_booking_widget_counts_the_free_times_when_asked(webtest, bookable, dbsession, org):
    with time_machine.travel(datetime(2030, 6, 3, 8, 0).isoformat() + "Z", tick=False):
        app = webtest("acme")
        page = app.get(f"/book/practitioner/{bookable.id}").html
        assert page.select_one("[data-remaining]") is None
        org.settings = {"show_remaining_booking": True}
        dbsession.flush()
        page = app.get(f"/book/practitioner/{bookable.id}").html
        slots_this_week = len(page.select("ul.slots a"))
        remaining = page.select_one("[data-remaining]")
        # Four 20-minute times (with 10-minute gaps) in 9-11 on each of the two days.
        assert slots_this_week == 4 and remaining["data-remaining"] == "8"
        assert remaining.get_text() == "8 appointment times are still free."


# -- the background message over the socket ----------------------------------------


def test_a_replaced_background_is_told_to_the_others_in_the_room(server):
    org = server.organisation(background_warning=True)
    doctor = server.user(org, name="Dr. Blur")
    _browser, staff, client, _appointment, _room = in_room(server, org, doctor)
    client.send({"type": "background", "replaced": True})
    heard = staff.expect("background")
    assert heard["replaced"] is True and heard["peer"] == client.peer
    client.send({"type": "background", "replaced": False})
    assert staff.expect("background")["replaced"] is False
    client.send({"type": "background", "replaced": "yes"})
    assert client.expect("error")["code"] == "malformed"


def test_without_the_warning_the_message_is_refused(server):
    org = server.organisation()
    doctor = server.user(org)
    _browser, staff, client, _appointment, _room = in_room(server, org, doctor)
    client.send({"type": "background", "replaced": True})
    assert client.expect("error")["code"] == "forbidden"


def test_outside_a_room_it_is_refused(server):
    org = server.organisation(background_warning=True)
    _browser, staff = staff_socket(server, org, server.user(org))
    staff.send({"type": "background", "replaced": True})
    assert staff.expect("error")["code"] == "forbidden"
