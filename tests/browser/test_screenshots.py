"""Screenshots of the staff dashboard, the waiting list, the room in a
three-way call and the client's waiting room, at 1280×800 and 390×844,
written to docs/screenshots/ (named in README; made by this test, not kept
in git) so that anyone can look at the pages as they are."""

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom.room.models import Room, RoomInvite

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = [(1280, 800), (390, 844)]


def _shoot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        path = OUT / f"{name}-{width}x{height}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 1000


def test_screenshots_of_the_main_pages(
    live_data, live_db, live_server, new_context, log_in, wait_for_media
):
    org = live_data.organisation(name="Demo Health Centre", contact_phone="020 123 4567")
    live_data.department(org, "General practice")
    admin = live_data.user(org, role=Role.org_admin, name="Anna Admin")
    doctor = live_data.user(org, name="Dr. Jansen")
    first = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Bakker")
    )
    live_data.appointment(
        org,
        practitioner=doctor,
        client=live_data.client(org, last_name="Visser"),
        starts_at=utcnow().replace(microsecond=0) + timedelta(hours=1),
    )

    client = new_context().new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{first.token}"))
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    _shoot(client, "client-waiting-room")

    staff = new_context().new_page()
    log_in(staff, doctor)
    expect(staff.locator("tr.day-row").first).to_be_visible()
    expect(staff.locator("[data-shell-waiting-link] [data-waiting-count]")).to_have_text("1")
    _shoot(staff, "dashboard")
    admin_page = new_context().new_page()
    log_in(admin_page, admin)
    _shoot(admin_page, "dashboard-new-organisation")

    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator(".waiting-entry", has_text="Bakker")).to_be_visible()
    _shoot(staff, "waiting-list")

    staff.set_viewport_size({"width": 1280, "height": 800})
    staff.locator(".waiting-entry", has_text="Bakker").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    room = live_db.scalar(select(Room).where(Room.appointment_id == first.id))
    invite = RoomInvite(room_id=room.id, name="Dr. Interpreter", email="i@example.org")
    live_db.add(invite)
    live_db.commit()
    guest = new_context().new_page()
    guest.goto(live_server.url(org.subdomain, f"/join/{invite.token}"))
    for page in (client, staff, guest):
        wait_for_media(page, video=2)
    _shoot(staff, "room")
    _shoot(client, "room-client")
