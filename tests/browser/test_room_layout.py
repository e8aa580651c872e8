"""The consultation room's layout in real Chromium: the toolbar stays in the
window, uncovered, with the staff menu on the page (1280×800 and 390×844);
the self-view never covers a tile in a three-way call; a practitioner in a
call sees (and hears) a client arrive; and the roomkit test plugin's
toolbar button, side-panel tab, overlay, waiting-list badge and realtime
message round trip through the page's one socket."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import Room, RoomInvite

SIZES = [(1280, 800), (390, 844)]
# Where an element is, and whether it is the topmost thing at its centre.
PLACE_JS = """(element) => {
  const r = element.getBoundingClientRect();
  const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return {x: r.x, y: r.y, right: r.right, bottom: r.bottom, width: r.width,
          height: r.height, uncovered: Boolean(top) && element.contains(top)};
}"""


@pytest.fixture
def clinic(live_data, live_db):
    org = live_data.organisation(name="Clinic", options={"file_sharing": True, "audio_alarm": True})
    live_db.add(PluginEnablement(organisation_id=org.id, plugin="roomkit", enabled=True))
    live_db.commit()
    doctor = live_data.user(org, name="Dr. Jansen")
    return org, doctor


def _client_waits(context, live_server, org, appointment):
    page = context.new_page()
    page.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")
    return page


@pytest.fixture
def call(clinic, live_data, live_server, client_context, staff_context, log_in, wait_for_media):
    """The practitioner has called in A. Bakker; both see each other."""
    org, doctor = clinic
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Bakker")
    )
    client = _client_waits(client_context, live_server, org, appointment)
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Bakker")
    # The plugin's badge on the waiting list.
    expect(entry.locator("[data-annotations] .badge")).to_have_text(f"Room kit #{appointment.id}")
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    for page in (client, staff):
        wait_for_media(page, video=1)
    return org, doctor, appointment, client, staff


def _place(page, selector):
    return page.locator(selector).evaluate(PLACE_JS)


def _within(place, width, height):
    return (
        place["width"] > 0
        and place["x"] >= 0
        and place["y"] >= 0
        and place["right"] <= width + 0.5
        and place["bottom"] <= height + 0.5
    )


def test_the_toolbar_stays_in_the_window_with_the_staff_menu(call):
    _org, _doctor, _appointment, _client, staff = call
    expect(staff.locator("nav.menu")).to_be_attached()
    for width, height in SIZES:
        staff.set_viewport_size({"width": width, "height": height})
        staff.wait_for_timeout(300)
        assert staff.evaluate("document.scrollingElement.scrollHeight") <= height
        toolbar = _place(staff, ".room-controls")
        assert _within(toolbar, width, height), (width, toolbar)
        for control in (
            "[data-action=microphone]",
            "[data-action=camera]",
            "[data-action=files]",
            '[data-room-button="roomkit.ping"]',
            "[data-action=send-back]",
            "[data-action=end]",
        ):
            place = _place(staff, control)
            assert _within(place, width, height) and place["uncovered"], (width, control, place)
        # The menu does not push the video below the fold.
        tile = _place(staff, ".room-tile")
        assert tile["y"] < height / 2 and tile["height"] > 100, (width, tile)
        assert _within(_place(staff, "nav.menu"), width, height) or width < 600
    # On a phone the secondary controls wait behind "More".
    expect(staff.locator("[data-action=fullscreen]")).to_be_hidden()
    staff.locator("[data-action=more]").click()
    expect(staff.locator("[data-action=fullscreen]")).to_be_visible()
    staff.keyboard.press("Escape")


def _overlaps(a, b):
    return not (
        a["right"] <= b["x"]
        or b["right"] <= a["x"]
        or a["bottom"] <= b["y"]
        or b["bottom"] <= a["y"]
    )


def test_the_self_view_never_covers_a_tile_in_a_three_way_call(
    call, live_db, live_server, new_context, wait_for_media
):
    org, _doctor, appointment, client, staff = call
    room = live_db.scalar(select(Room).where(Room.appointment_id == appointment.id))
    invite = RoomInvite(room_id=room.id, name="Dr. Interpreter", email="i@example.org")
    live_db.add(invite)
    live_db.commit()
    guest = new_context().new_page()
    guest.goto(live_server.url(org.subdomain, f"/join/{invite.token}"))
    for page in (client, staff, guest):
        wait_for_media(page, video=2)
    for width, height in SIZES:
        for page in (staff, client, guest):
            page.set_viewport_size({"width": width, "height": height})
        staff.wait_for_timeout(300)
        for page in (staff, client, guest):
            own = _place(page, "[data-self]")
            tiles = page.locator(".room-tile").evaluate_all(
                "(tiles) => tiles.map((t) => { const r = t.getBoundingClientRect();"
                " return {x: r.x, y: r.y, right: r.right, bottom: r.bottom}; })"
            )
            assert len(tiles) == 2 and own["width"] > 0
            assert not any(_overlaps(own, tile) for tile in tiles), (width, own, tiles)
            assert _within(_place(page, ".room-controls"), width, height)


def test_the_plugins_button_tab_overlay_and_message_round_trip(call):
    _org, _doctor, _appointment, client, staff = call
    staff.locator('[data-room-button="roomkit.ping"]').click()
    # Everyone in the room hears of it, in the plugin's overlay over the stage...
    expect(client.locator("[data-roomkit-notice]")).to_have_text("Dr. Jansen pinged the room")
    expect(staff.locator("[data-roomkit-notice]")).to_have_text("Dr. Jansen pinged the room")
    # ...and the sender's answer is in the plugin's side-panel tab.
    staff.locator("[data-action=participants]").click()
    participants = staff.locator("[data-room-tab=participants]")
    expect(participants).to_have_attribute("aria-selected", "true")
    expect(staff.locator("[data-participants] li")).to_have_text(["Dr. Jansen (you)", "A. Bakker"])
    participants.press("ArrowRight")  # the tabs' keyboard pattern
    plugin_tab = staff.locator("[data-room-tab=roomkit]")
    expect(plugin_tab).to_be_focused()
    expect(plugin_tab).to_have_attribute("aria-selected", "true")
    expect(staff.locator("[data-roomkit-log]")).to_have_text("Pong 1 (staff)")
    # The client's page has the plugin too, on the same socket.
    client.locator('[data-room-button="roomkit.ping"]').click()
    expect(staff.locator("[data-roomkit-notice]")).to_have_text("A. Bakker pinged the room")
    assert client.evaluate("window.consultroom.socket.role") == "client"
    staff.keyboard.press("Escape")
    expect(staff.locator("[data-room-panel]")).to_be_hidden()


def test_a_practitioner_in_a_call_sees_and_hears_a_client_arrive(
    call, live_data, live_server, new_context
):
    org, doctor, _appointment, _client, staff = call
    waiting = staff.locator("[data-room-waiting]")
    expect(waiting.locator("[data-waiting-count]")).to_have_text("0")
    staff.evaluate("""() => {
        window.__rang = 0;
        document.querySelector('[data-room] [data-doorbell]')
          .addEventListener('play', () => window.__rang++);
    }""")
    later = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Mulder")
    )
    _client_waits(new_context(), live_server, org, later)
    expect(waiting.locator("[data-waiting-count]")).to_have_text("1")
    expect(waiting).to_have_attribute("aria-label", "1 client is waiting.")
    expect(staff.locator("[data-waiting-announce]")).to_have_text(
        "A client has arrived. 1 client is waiting."
    )
    assert staff.evaluate("window.__rang") == 1
    # The count stays in view during the call.
    width, height = staff.viewport_size["width"], staff.viewport_size["height"]
    assert _within(_place(staff, "[data-room-waiting]"), width, height)
