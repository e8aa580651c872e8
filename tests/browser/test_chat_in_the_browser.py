"""The chat plugin in real Chromium: the practitioner and a waiting client
write before the call-in (the staff waiting list's Chat button and badge, the
client's waiting panel); the conversation goes on in the room's Chat tab,
where an invited guest writes too and a closed tab counts what arrived (a
message the database refused is retracted from every tab and its text given
back to the guest, to send again); and a client writes later through their
link's messages page, which the department sees counted in the menu and the
list."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import Room, RoomInvite

from chat_support import inserts_refused

SETTINGS = {"in_waiting_room": True, "delete_after_consultation": False, "delete_after_days": 0}


@pytest.fixture
def clinic(live_data, live_db):
    org = live_data.organisation(name="Chat Clinic")
    live_db.add(
        PluginEnablement(organisation_id=org.id, plugin="chat", enabled=True, settings=SETTINGS)
    )
    live_db.commit()
    return org, live_data.user(org, name="Dr. Chat")


def _write(panel, text):
    panel.locator("textarea[name=text]").fill(text)
    panel.locator("button[type=submit]").click()


def _open_chat_tab(page):
    page.locator("[data-action=participants]").click()
    page.locator('[data-room-tab="chat"]').click()
    panel = page.locator('[data-room-tab-panel="chat"]')
    expect(panel).to_be_visible()
    return panel


def test_before_the_call_in_in_the_room_and_with_a_guest(
    clinic, live_data, live_db, live_server, client_context, staff_context, new_context, log_in
):
    org, doctor = clinic
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Bakker")
    )
    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    waiting_panel = client.locator("[data-waiting-part] [data-chat-panel]")
    expect(waiting_panel.locator("textarea")).to_be_visible()

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Bakker")
    entry.locator("[data-chat-open]").click()
    staff_panel = staff.locator("[data-chat-waiting]")
    expect(staff_panel.locator("[data-chat-with]")).to_have_text("A. Bakker")
    _write(staff_panel, "I am running five minutes late")
    expect(waiting_panel.locator(".chat-text")).to_have_text(["I am running five minutes late"])

    _write(waiting_panel, "No problem, my notes: https://example.org/notes")
    link = staff_panel.locator(".chat-text a")
    expect(link).to_have_attribute("href", "https://example.org/notes")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(entry.locator("[data-annotations] .badge")).to_have_text("1 new messages")

    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    client_tab = _open_chat_tab(client)
    expect(client_tab.locator(".chat-text")).to_have_count(2)

    room = live_db.scalar(select(Room).where(Room.appointment_id == appointment.id))
    invite = RoomInvite(room_id=room.id, name="Tolk", email="tolk@example.org")
    live_db.add(invite)
    live_db.commit()
    guest = new_context().new_page()
    guest.goto(live_server.url(org.subdomain, f"/join/{invite.token}"))
    guest_tab = _open_chat_tab(guest)
    expect(guest_tab.locator(".chat-text")).to_have_count(2)
    _write(guest_tab, "I will translate")
    expect(client_tab.locator(".chat-message").last).to_contain_text("Tolk")
    # The staff member's tab is closed: its button counts the new message.
    expect(staff.locator('[data-room-tab="chat"]')).to_have_text("Chat (1)")
    staff_tab = _open_chat_tab(staff)
    expect(staff.locator('[data-room-tab="chat"]')).to_have_text("Chat")
    expect(staff_tab.locator(".chat-text").last).to_have_text("I will translate")

    with inserts_refused(live_db.get_bind(), org.id):
        _write(guest_tab, "Lost on the way")
        expect(guest_tab.locator("[data-chat-error]")).to_contain_text("could not be sent")
        expect(guest_tab.locator("textarea[name=text]")).to_have_value("Lost on the way")
    guest_tab.locator("button[type=submit]").click()  # again, and it goes
    expect(guest_tab.locator("[data-chat-error]")).to_be_hidden()
    # The room hears a message and its retraction in order: once the second
    # try shows, the first is gone from every tab.
    for tab in (client_tab, staff_tab, guest_tab):
        expect(tab.locator(".chat-text").last).to_have_text("Lost on the way")
        expect(tab.locator(".chat-text")).to_have_count(4)


def test_a_client_writes_later_and_the_department_sees_the_count(
    clinic, live_data, live_server, client_context, staff_context, log_in
):
    org, doctor = clinic
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Visser")
    )
    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}/messages"))
    client.locator("textarea[name=text]").fill("A question about my prescription")
    client.locator("button[type=submit]", has_text="Send").click()
    expect(client.locator(".chat-text")).to_have_text(["A question about my prescription"])

    staff = staff_context.new_page()
    log_in(staff, doctor)
    expect(staff.locator("nav.menu")).to_contain_text("Messages (1)")
    staff.goto(live_server.url(org.subdomain, "/messages"))
    row = staff.locator("tr", has_text="A. Visser")
    expect(row.locator(".badge")).to_have_text("1")
    row.locator("a").click()
    expect(staff.locator(".chat-text")).to_have_text(["A question about my prescription"])
    expect(staff.locator("nav.menu")).not_to_contain_text("Messages (1)")
