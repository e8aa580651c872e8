"""The waiting room in real Chromium: the client's page (disclaimer first,
camera and microphone check, arrival state, live note, contact details) and
the practitioner's live list (coloured corner, exact time, doorbell, count
on the menu, note, send back, walk-in switch)."""

import json
import re
from datetime import timedelta

from babel.dates import format_time
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.i18n import regional
from consultroom.tenancy.timezones import to_local
from consultroom.waitingroom.models import WalkInSwitch

DISCLAIMER = "Video consultations are not for emergencies."


def _ring_counter(page):
    page.evaluate("""() => {
        window.__rang = 0;
        document.querySelector('[data-doorbell]').addEventListener('play', () => window.__rang++);
    }""")


def test_client_accepts_the_disclaimer_before_joining_the_list(
    live_data, live_server, client_context, staff_context, log_in, poll
):
    org = live_data.organisation(
        name="Clinic",
        contact_phone="+31 20 123 4567",
        options={"disclaimer": DISCLAIMER, "audio_alarm": True},
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    late = live_data.appointment(
        org,
        practitioner=doctor,
        client=live_data.client(org, last_name="Mulder"),
        starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=10),
    )

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    _ring_counter(staff)

    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{late.token}"))
    expect(client.locator("[data-disclaimer-card]")).to_contain_text(DISCLAIMER)
    expect(client.locator(".when")).to_contain_text("Your appointment started at")
    expect(client.locator("[data-waiting-page]")).to_contain_text("+31 20 123 4567")
    expect(client.locator("[data-device-card]")).to_be_hidden()
    staff.wait_for_timeout(1000)
    expect(staff.locator(".waiting-entry")).to_have_count(0)

    client.locator("[data-accept] input[name=accept]").check()
    client.locator("[data-accept] button").click()
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")

    entry = staff.locator(".waiting-entry", has_text="Mulder")
    expect(entry).to_have_class("waiting-entry arrival-late")
    # As the server renders it (Babel's short time, English as written in the
    # organisation's region); browsers may put a plain space where CLDR has
    # a narrow one ("3:18 PM").
    exact_time = format_time(
        to_local(late.starts_at, org), "short", locale=regional("en", org.timezone)
    )
    expect(entry.locator("[data-time]")).to_have_text(
        re.compile("^" + re.escape(exact_time).replace("\u202f", "[ \u202f]") + "$")
    )
    expect(staff.locator("[data-count]")).to_have_text("1")
    expect(staff.locator('nav.menu a[href$="/waiting-room"]')).to_have_text("Waiting room (1)")
    poll(staff, "window.__rang === 1")

    # Camera preview plays and the microphone meter moves (the fake microphone beeps).
    poll(client, "document.querySelector('[data-preview]').videoWidth > 0")
    poll(client, "document.querySelector('[data-level]').value > 0.01")


def test_note_reaches_the_client_and_send_back_returns_them_to_the_waiting_room(
    live_data, live_server, client_context, staff_context, log_in, poll
):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Dekker")
    )
    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Dekker")
    expect(entry).to_have_class("waiting-entry arrival-early")
    entry.locator("[data-note-form] input").fill("Running 10 minutes late")
    entry.locator("[data-note-form] button").click()
    expect(client.locator("[data-note]")).to_have_text("Running 10 minutes late")

    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    staff.locator("[data-action=send-back]").click()
    expect(client.locator("[data-room]")).to_be_hidden()
    expect(client.locator("[data-waiting]")).to_be_visible()
    poll(client, "document.querySelector('[data-preview]').videoWidth > 0")


def test_walk_in_switch_is_kept(live_data, live_server, live_db, staff_context, log_in):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    expect(staff.locator("[data-walk-in]")).not_to_be_checked()
    staff.locator("[data-walk-in]").check()
    for _ in range(50):
        if live_db.scalar(select(WalkInSwitch.available).where(WalkInSwitch.user_id == doctor.id)):
            break
        staff.wait_for_timeout(100)
    staff.reload()
    expect(staff.locator("[data-walk-in]")).to_be_checked()


def test_the_staff_page_asks_for_the_full_list_when_it_missed_a_delta(
    live_data, live_server, client_context, staff_context, log_in
):
    """The first delta is lost on its way to the page: the next one's
    number shows the gap, the page asks for the full list, and shows both
    clients (without the resync it would show only the second)."""
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    first, second = (
        live_data.appointment(
            org,
            practitioner=doctor,
            client=live_data.client(org, last_name=name),
            starts_at=utcnow().replace(microsecond=0) + timedelta(minutes=minutes),
        )
        for minutes, name in ((1, "Visser"), (2, "Bakker"))
    )
    staff = staff_context.new_page()
    log_in(staff, doctor)
    dropped, sent = [], []

    def route(page_socket):
        server = page_socket.connect_to_server()

        def from_server(message):
            if json.loads(message)["type"] == "waiting_delta" and not dropped:
                dropped.append(message)
            else:
                page_socket.send(message)

        def from_page(message):
            sent.append(json.loads(message))
            server.send(message)

        server.on_message(from_server)
        page_socket.on_message(from_page)

    staff.route_web_socket(re.compile(r"/ws$"), route)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    for appointment in (first, second):
        client = client_context.new_page()
        client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
        expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    expect(staff.locator(".waiting-entry")).to_have_count(2)
    expect(staff.locator("[data-count]")).to_have_text("2")
    assert len(dropped) == 1 and {"type": "resync"} in sent
