"""A quick consultation in real Chromium: the practitioner starts it from
the clients list's camera button (or the quick consultation page) and is in
the room first, copies the client's link there, and the client who opens it
comes straight into the call, without waiting or being called in."""

import pytest
from playwright.sync_api import expect


@pytest.fixture
def clinic(live_data):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    client = live_data.client(org, initials="A.", last_name="Bakker")
    return org, doctor, client


def _in_the_room_first(staff):
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-room]")).to_be_visible()
    link = staff.locator("#client-link")
    expect(link).to_be_visible()
    return link.input_value()


def _client_comes_straight_in(client_context, link, staff, wait_for_media):
    client = client_context.new_page()
    client.goto(link)
    expect(client.locator("[data-room]")).to_be_visible()
    expect(client.locator("[data-waiting-part]")).to_be_hidden()
    for page in (client, staff):
        wait_for_media(page, video=1)
    expect(staff.locator(".room-tile figcaption")).to_have_text("A. Bakker")
    expect(client.locator(".room-tile figcaption")).to_have_text("Dr. Jansen")
    return client


def test_the_camera_button_puts_the_practitioner_in_the_room_first(
    clinic, live_server, client_context, staff_context, log_in, wait_for_media
):
    org, doctor, _client = clinic
    staff_context.grant_permissions(["clipboard-read", "clipboard-write"])
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/clients"))
    staff.get_by_role("button", name="Start a video consultation with A. Bakker").click()
    link = _in_the_room_first(staff)
    assert "/c/" in link
    staff.get_by_role("button", name="Copy link").click()
    expect(staff.locator("#copy-status")).to_have_text("Copied")
    assert staff.evaluate("navigator.clipboard.readText()") == link
    _client_comes_straight_in(client_context, link, staff, wait_for_media)


def test_the_quick_consultation_page_types_the_client_and_starts(
    clinic, live_server, client_context, staff_context, log_in, wait_for_media
):
    org, doctor, _client = clinic
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/appointments/quick"))
    field = staff.get_by_role("combobox", name="Client")
    field.fill("Bakk")
    staff.get_by_role("option", name="A. Bakker").click()
    staff.get_by_role("button", name="Start consultation").click()
    link = _in_the_room_first(staff)
    _client_comes_straight_in(client_context, link, staff, wait_for_media)
