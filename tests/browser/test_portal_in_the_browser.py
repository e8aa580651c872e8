"""The client portal in real Chromium: the client opens their portal link,
asks for a PIN, types the one from the e-mail and sees their appointments;
the portal's service worker then shows the offline page when the network
is gone (the installable web app)."""

import email
import re
import time
from datetime import timedelta
from email import policy
from pathlib import Path

from playwright.sync_api import expect

from consultroom.db import utcnow

PIN = re.compile(r"^\s+([0-9]{6})\s*$", re.M)


def _mailed_pin(folder, recipient, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(Path(folder).glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == recipient and message["Subject"].startswith("Your PIN"):
                return PIN.findall(message.get_body(("plain",)).get_content())[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no PIN mailed to {recipient}")
        time.sleep(0.2)


def test_the_client_opens_the_portal_with_the_mailed_pin_and_it_works_offline(
    live_data, live_server, client_context, poll
):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    client = live_data.client(org, last_name="Portal", email="portal.client@example.org")
    live_data.appointment(
        org, practitioner=doctor, client=client, starts_at=utcnow() + timedelta(days=7)
    )

    page = client_context.new_page()
    page.goto(live_server.url(org.subdomain, f"/portal/{client.portal_token}"))
    expect(page.get_by_text("Dr. Jansen")).to_have_count(0)
    page.get_by_role("button", name="Send me a PIN").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent a PIN")
    pin = _mailed_pin(live_server.settings["mail.folder"], "portal.client@example.org")

    field = page.get_by_label("PIN from the e-mail")
    expect(field).to_be_focused()
    field.fill("000000" if pin != "000000" else "111111")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("That PIN is not right")
    page.get_by_label("PIN from the e-mail").fill(pin)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_text("Dr. Jansen")).to_be_visible()

    # The service worker takes over the portal's pages; without a network
    # it answers with the offline page instead of the browser's error.
    poll(page, "navigator.serviceWorker.controller !== null")
    client_context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    finally:
        client_context.set_offline(False)
