"""The chat plugin's public chat widget in real Chromium: a staff member
switches "I answer the website chat" on under Messages; a visitor of the
organisation's web site (another origin, one of its embed origins) writes
from the widget in an iframe there; the visitor appears live under "Website
visitors", and the two write to each other live over their sockets."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from consultroom_chat.models import Duty
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement


@pytest.fixture
def site():
    """The organisation's own web site, another origin: a server of its own
    on loopback (Chromium lets only a local page frame a local one), whose
    home page holds the widget in an iframe (``site.widget_url``)."""

    class Home(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (
                "<!doctype html><title>Acme</title><h1>Acme</h1>"
                f'<iframe src="{server.widget_url}" width="420" height="640"></iframe>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Home)
    server.origin = f"http://www.acme-site.localhost:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clinic(live_data, live_db, site):
    org = live_data.organisation(name="Widget Clinic", embed_origins=[site.origin])
    live_db.add(
        PluginEnablement(
            organisation_id=org.id, plugin="chat", enabled=True, settings={"public_widget": True}
        )
    )
    live_db.commit()
    return org, live_data.user(org, name="Dr. Duty")


def _wait_until_on_duty(live_db, user, seconds=10):
    """The switch went over the socket: the widget page (no socket before
    the visitor writes) shows what the server stored when it is loaded."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        live_db.rollback()  # a fresh read of what the server committed
        if live_db.scalar(select(Duty.answering).where(Duty.user_id == user.id)):
            return
        time.sleep(0.05)
    raise AssertionError("the duty switch was not stored")


def test_a_visitor_writes_from_the_widget_and_the_staff_on_duty_answer(
    clinic, site, live_server, live_db, client_context, staff_context, log_in, poll
):
    org, doctor = clinic
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/messages"))
    visitors = staff.locator("[data-chat-visitors]")
    expect(visitors).to_contain_text("No visitor has written yet.")
    switch = visitors.locator("[data-chat-duty]")
    expect(visitors.locator("[data-chat-duty-save]")).to_be_hidden()  # live: no button
    poll(staff, "window.consultroom.socket.connected")
    switch.check()
    _wait_until_on_duty(live_db, doctor)

    site.widget_url = live_server.url(org.subdomain, "/chat/widget")
    home = client_context.new_page()
    home.goto(f"{site.origin}/")
    widget = home.frame_locator("iframe")
    expect(widget.locator("[data-chat-duty]")).to_contain_text("We are here")
    widget.locator("input[name=name]").fill("Vera Visser")
    widget.locator("textarea[name=text]").fill("Do you take new patients?")
    widget.locator("button[type=submit]").click()
    expect(widget.locator(".chat-text")).to_have_text(["Do you take new patients?"])

    row = visitors.locator("tr", has_text="Vera Visser")
    expect(row.locator("[data-unread]")).to_have_text("1")
    row.locator("a").click()
    conversation = staff.locator("[data-chat-visitor]")
    expect(conversation.locator(".chat-text")).to_have_text(["Do you take new patients?"])
    poll(staff, "window.consultroom.socket.connected")

    poll(
        home.main_frame.child_frames[0], "window.consultroom && window.consultroom.socket.connected"
    )
    widget.locator("textarea[name=text]").fill("Also on Saturdays?")
    widget.locator("button[type=submit]").click()
    expect(conversation.locator(".chat-text").last).to_have_text("Also on Saturdays?")

    conversation.locator("textarea[name=text]").fill("Yes, see https://acme.example/hours")
    conversation.locator("button[type=submit]").click()
    answer = widget.locator(".chat-message").last
    expect(answer).to_contain_text("Dr. Duty")
    expect(answer.locator("a")).to_have_attribute("href", "https://acme.example/hours")
    # Live both ways: neither page was loaded again.
    expect(widget.locator(".chat-text")).to_have_count(3)
    expect(conversation.locator(".chat-text")).to_have_count(3)
