"""A group appointment in real Chromium: booked (through the API) with two
extra participants, it mails the client and each participant their own
link; the participants wait on "not started", the client in the waiting
room; when the practitioner calls the client in, all four meet in the room
(each decodes the video of the three others)."""

import email
import re
import secrets
import time
from datetime import UTC, timedelta
from email import policy
from pathlib import Path

from playwright.sync_api import expect

from consultroom.clients.models import Participant
from consultroom.db import utcnow
from consultroom.tenancy.models import hash_api_key

LINK = re.compile(r"https?://\S+/[cp]/[\w-]+")


def _mailed_links(folder, recipients, timeout=15):
    """recipient -> the link in the e-mail they got."""
    deadline = time.monotonic() + timeout
    while True:
        found = {}
        for path in Path(folder).glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] in recipients:
                body = message.get_body(("plain",)).get_content()
                found[message["To"]] = LINK.findall(body)[0]
        if len(found) == len(recipients):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"mails to {sorted(recipients)} not sent; found {found}")
        time.sleep(0.2)


def _book(page, key, **fields):
    """POST /api/v1/appointments from a page on the organisation's site."""
    answer = page.evaluate(
        """async ([key, fields]) => {
          const response = await fetch("/api/v1/appointments", {
            method: "POST",
            headers: {"Authorization": `Bearer ${key}`, "Content-Type": "application/json"},
            body: JSON.stringify(fields),
          });
          return {status: response.status, body: await response.json()};
        }""",
        [key, fields],
    )
    assert answer["status"] == 201, answer
    return answer["body"]


def test_client_and_two_participants_meet_in_the_room_by_their_mailed_links(
    live_data, live_server, new_context, log_in, wait_for_media
):
    key = secrets.token_urlsafe(24)
    org = live_data.organisation(name="Group Clinic", api_key_hash=hash_api_key(key))
    doctor = live_data.user(org, name="Dr. Group")
    tag = secrets.token_hex(3)
    client = live_data.client(
        org, initials="C.", last_name="Client", email=f"client-{tag}@example.org"
    )
    participants = [
        live_data._save(
            Participant(
                organisation_id=org.id, last_name=name, email=f"{name.lower()}-{tag}@example.org"
            )
        )
        for name in ("Daughter", "Interpreter")
    ]

    staff = new_context().new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    starts_at = (utcnow() + timedelta(minutes=2)).replace(microsecond=0, tzinfo=UTC)
    _book(
        staff,
        key,
        client_id=client.id,
        practitioner_id=doctor.id,
        starts_at=starts_at.isoformat(),
        participant_ids=[p.id for p in participants],
    )
    links = _mailed_links(
        Path(live_server.settings["mail.folder"]), {client.email, *(p.email for p in participants)}
    )
    assert len(set(links.values())) == 3 and "/c/" in links[client.email]

    guests = []
    for participant in participants:
        page = new_context().new_page()
        page.goto(links[participant.email])
        expect(page.locator("[data-when]")).to_contain_text("has not started yet")
        expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")
        guests.append(page)
    client_page = new_context().new_page()
    client_page.goto(links[client.email])
    expect(client_page.locator("[data-connection]")).to_have_attribute("data-state", "online")

    entry = staff.locator(".waiting-entry", has_text="C. Client")
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")

    for page in (staff, client_page, *guests):
        expect(page.locator("[data-room]")).to_be_visible()
        wait_for_media(page, video=3, timeout=30)
    expect(staff.locator(".room-tile")).to_have_count(3)
    captions = sorted(staff.locator(".room-tile figcaption").all_inner_texts())
    assert captions == ["C. Client", "Daughter", "Interpreter"]
