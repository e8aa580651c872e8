"""The embed script in real Chromium (issue 19): a page of the organisation's
own site (another origin, served here on loopback) with the documented code
shows the client's waiting room from the link after "#", online and with
the camera working inside the iframe; a site the organisation did not list
gets no waiting room (frame-ancestors)."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

PAGE = """<!doctype html><title>Our practice</title><h1>Your consultation</h1>
<div data-consultroom-embed="{home}" data-link-from-hash data-title="Video consultation"></div>
<script src="{home}/static/js/embed.js" async></script>"""


@pytest.fixture
def own_site(tmp_path):
    """An organisation's website: a static server on another loopback origin."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _consult_page(live_data, live_server, own_site, listed):
    folder, origin = own_site
    org = live_data.organisation(embed_origins=[origin] if listed else [])
    appointment = live_data.appointment(org, practitioner=live_data.user(org))
    home = live_server.url(org.subdomain, "").rstrip("/")
    (folder / "consult.html").write_text(PAGE.format(home=home))
    return f"{origin}/consult.html#/c/{appointment.token}"


def test_the_organisations_site_shows_the_waiting_room(
    live_data, live_server, own_site, client_context
):
    page = client_context.new_page()
    page.goto(_consult_page(live_data, live_server, own_site, listed=True))
    frame = page.frame_locator("iframe[title='Video consultation']")
    expect(frame.locator("[data-connection]")).to_have_attribute("data-state", "online")
    assert page.locator("iframe").get_attribute("allow").startswith("camera; microphone")
    # The device check's preview gets the (fake) camera inside the frame.
    expect(frame.locator("[data-preview]")).to_be_visible()
    playing = frame.locator("[data-preview]").evaluate(
        "(v) => new Promise((done) => { const check = () => v.srcObject && v.videoWidth > 0"
        " ? done(true) : setTimeout(check, 100); check(); })"
    )
    assert playing


def test_an_unlisted_site_gets_no_waiting_room(live_data, live_server, own_site, client_context):
    page = client_context.new_page()
    page.goto(_consult_page(live_data, live_server, own_site, listed=False))
    expect(page.locator("iframe")).to_have_count(1)
    page.wait_for_timeout(1500)
    frame = page.frame_locator("iframe")
    expect(frame.locator("[data-waiting-page]")).to_have_count(0)
