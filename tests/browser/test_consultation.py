"""A consultation end to end in real Chromium: the client opens the invite
link and waits, a practitioner calls them in, both sides decode the other's
video and receive their audio (getStats), a shared screen reaches the other
side, files cross and are gone from disk after the end, the end shows the
follow-up message, a quick-invited participant makes it a three-way mesh,
a reloading client comes back into the call; and the claim race between
two practitioners."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from consultroom.room.models import Room, RoomInvite, SharedFile

FOLLOW_UP = "Thank you for your visit. Your prescription is on its way."


def _wait_for(page, read, check, timeout=20):
    """Polls ``read(page)`` until ``check`` accepts it; the last value."""
    deadline = time.monotonic() + timeout
    value = read(page)
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s; last value: {value!r}")
        page.wait_for_timeout(200)
        value = read(page)
    return value


def _inbound(stats, kind):
    return [r for r in stats if r["type"] == "inbound-rtp" and r["kind"] == kind]


def _frame_shape(stats):
    """(width, height) of the decoded remote video."""
    for r in _inbound(stats, "video"):
        if r.get("frameWidth"):
            return r["frameWidth"], r["frameHeight"]
    return None


@pytest.fixture
def clinic(live_data):
    org = live_data.organisation(
        name="Clinic",
        contact_phone="+31 20 123 4567",
        options={"file_sharing": True, "screen_sharing": True, "follow_up_text": FOLLOW_UP},
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    client = live_data.client(org, initials="A.", last_name="Bakker")
    appointment = live_data.appointment(org, practitioner=doctor, client=client)
    return org, doctor, appointment


def _client_waits(context, live_server, org, appointment):
    page = context.new_page()
    page.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")
    return page


def _staff_list(context, log_in, live_server, org, user):
    page = context.new_page()
    log_in(page, user)
    page.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")
    return page


def _call_in(staff, name):
    entry = staff.locator(".waiting-entry", has_text=name)
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-room]")).to_be_visible()


@pytest.fixture
def consultation(clinic, live_server, client_context, staff_context, log_in, wait_for_media):
    """Client and practitioner in the room, each decoding the other's video."""
    org, doctor, appointment = clinic
    client = _client_waits(client_context, live_server, org, appointment)
    staff = _staff_list(staff_context, log_in, live_server, org, doctor)
    _call_in(staff, "A. Bakker")
    expect(client.locator("[data-room]")).to_be_visible()
    for page in (client, staff):
        wait_for_media(page, video=1)
    return client, staff, appointment


def test_called_in_client_and_practitioner_see_and_hear_each_other(consultation, wait_for_media):
    client, staff, _appointment = consultation
    for page in (client, staff):
        wait_for_media(page, video=1, audio=1)
    expect(client.locator("[data-waiting-part]")).to_be_hidden()
    expect(client.locator(".room-tile figcaption")).to_have_text("Dr. Jansen")
    expect(staff.locator(".room-tile figcaption")).to_have_text("A. Bakker")
    expect(staff.locator("[data-timer]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(staff.locator("[data-clock]")).to_have_text(re.compile(r"\d\d.\d\d"))


def test_shared_screen_reaches_the_other_side(consultation, rtc_stats):
    client, staff, _appointment = consultation
    camera = _frame_shape(_wait_for(client, rtc_stats, _frame_shape))
    staff.locator("[data-action=screen]").click()
    expect(staff.locator("[data-action=screen]")).to_have_attribute("aria-pressed", "true")
    # The fake camera is 4:3, the fake screen 16:9: the client now decodes the screen.
    shared = _wait_for(
        client,
        rtc_stats,
        lambda s: (
            _frame_shape(s)
            and _frame_shape(s) != camera
            and abs(_frame_shape(s)[0] / _frame_shape(s)[1] - 16 / 9) < 0.05
        ),
    )
    assert any(r.get("framesDecoded", 0) > 0 for r in _inbound(shared, "video"))
    staff.locator("[data-action=screen]").click()
    _wait_for(
        client,
        rtc_stats,
        lambda s: (
            _frame_shape(s)
            and abs(_frame_shape(s)[0] / _frame_shape(s)[1] - camera[0] / camera[1]) < 0.05
        ),
    )


def _open_files(page):
    """The files are in the room's side panel, behind the toolbar's "Files"."""
    button = page.locator("[data-action=files]")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    expect(page.locator("[data-files-panel]")).to_be_visible()


def _share(page, name, data):
    _open_files(page)
    page.set_input_files(
        "[data-upload] input[type=file]",
        files=[{"name": name, "mimeType": "text/plain", "buffer": data}],
    )
    page.locator("[data-upload] button[type=submit]").click()


def _download(page, name):
    # A file from someone else is announced on the closed panel's button.
    if page.locator("[data-files-panel]").is_hidden():
        expect(page.locator("[data-files-unseen]")).to_be_visible()
    _open_files(page)
    link = page.locator("[data-files] a", has_text=name)
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path()).read_bytes()


def test_files_cross_and_are_deleted_at_the_end(consultation, live_db):
    client, staff, appointment = consultation
    from_staff = b"Exercises: three times a day.\n" * 100
    from_client = "Mijn klachten: één week hoofdpijn.\n".encode() * 50
    _share(staff, "exercises.txt", from_staff)
    assert _download(client, "exercises.txt") == from_staff
    _share(client, "klachten.txt", from_client)
    assert _download(staff, "klachten.txt") == from_client

    room_id = live_db.scalar(select(Room.id).where(Room.appointment_id == appointment.id))
    paths = [
        Path(p)
        for p in live_db.scalars(select(SharedFile.path).where(SharedFile.room_id == room_id))
    ]
    assert len(paths) == 2 and all(path.exists() for path in paths)

    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("[data-action=end]").click()
    expect(client.locator("[data-ended]")).to_be_visible()
    staff.wait_for_url("**/waiting-room")
    assert not any(path.exists() for path in paths)
    live_db.expire_all()
    assert (
        live_db.scalar(
            select(func.count()).select_from(SharedFile).where(SharedFile.room_id == room_id)
        )
        == 0
    )


def test_end_shows_the_follow_up_and_returns_the_practitioner_to_the_list(consultation):
    client, staff, _appointment = consultation
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("[data-action=end]").click()
    expect(client.locator("[data-follow-up]")).to_have_text(FOLLOW_UP)
    expect(client.locator("[data-room]")).to_be_hidden()
    staff.wait_for_url("**/waiting-room")
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    expect(staff.locator(".waiting-entry")).to_have_count(0)


def test_claim_race_gives_the_client_to_exactly_one_practitioner(
    live_data, live_server, live_db, new_context, log_in
):
    org = live_data.organisation(name="Group practice")
    physio = live_data.department(org, "Physio")
    first = live_data.user(org, name="Anna de Vries", department_id=physio.id)
    second = live_data.user(org, name="Bram Smit", department_id=physio.id)
    appointment = live_data.appointment(
        org, department=physio, client=live_data.client(org, last_name="Visser")
    )
    _client_waits(new_context(), live_server, org, appointment)
    pages = [_staff_list(new_context(), log_in, live_server, org, user) for user in (first, second)]
    for page in pages:
        expect(page.locator(".waiting-entry", has_text="Visser")).to_be_visible()

    # Both click at the same instant (the pages share this machine's clock).
    at = time.time() * 1000 + 500
    for page in pages:
        page.evaluate(
            """(at) => setTimeout(
            () => document.querySelector('.waiting-entry [data-call-in]').click(),
            at - Date.now())""",
            at,
        )

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        winners = [page for page in pages if "/room/" in page.url]
        if winners:
            break
        pages[0].wait_for_timeout(100)
    assert len(winners) == 1
    loser = pages[1 - pages.index(winners[0])]
    winner_name = (first, second)[pages.index(winners[0])].name
    expect(loser.locator("[data-notice]")).to_contain_text(winner_name)
    assert "/room/" not in loser.url
    assert (
        live_db.scalar(
            select(func.count()).select_from(Room).where(Room.appointment_id == appointment.id)
        )
        == 1
    )


def test_quick_invited_participant_joins_a_three_way_call(
    consultation, clinic, live_server, live_db, new_context, wait_for_media
):
    client, staff, appointment = consultation
    org = clinic[0]
    staff.locator("[data-action=invite]").click()
    quick = staff.locator("[data-invite-dialog] form[data-invite]").last
    quick.locator("input[name=name]").fill("Dr. Interpreter")
    quick.locator("input[name=email]").fill("interpreter@example.org")
    quick.locator("button[type=submit]").click()
    expect(staff.locator("[data-invite-status]")).to_contain_text("Dr. Interpreter")
    staff.locator("[data-invite-dialog] [data-action=close]").click()

    room_id = live_db.scalar(select(Room.id).where(Room.appointment_id == appointment.id))
    token = live_db.scalar(select(RoomInvite.token).where(RoomInvite.room_id == room_id))
    guest = new_context().new_page()
    guest.goto(live_server.url(org.subdomain, f"/join/{token}"))
    for page in (client, staff, guest):
        wait_for_media(page, video=2)
    expect(client.locator(".room-tile figcaption")).to_have_text(["Dr. Jansen", "Dr. Interpreter"])


def test_client_reloading_the_page_returns_to_the_call(consultation, wait_for_media):
    client, staff, _appointment = consultation
    client.reload()
    expect(client.locator("[data-room]")).to_be_visible()
    for page in (client, staff):
        wait_for_media(page, video=1, audio=1)
    expect(staff.locator(".room-tile")).to_have_count(1)
