"""A whole consultation with the keyboard alone, in real Chromium with fake
camera and microphone: the client accepts the disclaimer and waits; the
practitioner logs in, opens the waiting room from the menu, calls the client
in, mutes and ends the consultation. Only key presses (Tab, Shift+Tab, Enter,
Space, arrows) act on the pages, never a click; every control reached shows
a visible focus indicator. What changes is said in live regions: the room
opening on both sides, the end on the client's."""

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from consultroom.accounts.models import Role

# The focused element, whether it matches a selector, and whether it shows
# a focus indicator (an outline drawn by :focus-visible).
FOCUS_JS = """(selector) => {
  const el = document.activeElement;
  if (!el || el === document.body || !el.matches(selector)) return null;
  const style = getComputedStyle(el);
  return {visible: el.matches(":focus-visible") && style.outlineStyle !== "none"
                   && parseFloat(style.outlineWidth) >= 2,
          text: (el.textContent || el.getAttribute("aria-label") || el.name || "").trim()};
}"""


# What the page's live regions say, in order (installed before the page loads).
# Only changes after the page has loaded, in regions that are shown.
RECORD_SAID_JS = """window.__said = [];
document.addEventListener("DOMContentLoaded", () => new MutationObserver((records) => {
  for (const record of records) {
    const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    const region = node && node.closest("[aria-live], [role=status], [role=alert]");
    const text = region && !region.closest("[hidden]") && region.textContent.trim();
    if (text && window.__said.at(-1) !== text) window.__said.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true,
                      attributes: true, attributeFilter: ["hidden"]}));"""


def tab_to(page, selector, backwards=False, limit=80):
    """Presses Tab (or Shift+Tab) until ``selector`` has the focus; checks
    that it shows the focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focus = page.evaluate(FOCUS_JS, selector)
        if focus:
            assert focus["visible"], f"{selector} ({focus['text']}) has no visible focus"
            return
    raise AssertionError(f"{limit} Tab presses never reached {selector}")


@pytest.fixture
def clinic(live_data):
    org = live_data.organisation(
        name="Clinic",
        options={"disclaimer": "Not for emergencies: call 112.", "file_sharing": True},
    )
    doctor = live_data.user(org, role=Role.org_admin, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Bakker")
    )
    return org, doctor, appointment


def test_a_consultation_with_the_keyboard_alone(
    clinic, live_server, client_context, staff_context, wait_for_media, poll
):
    org, doctor, appointment = clinic
    for context in (client_context, staff_context):
        context.add_init_script(RECORD_SAID_JS)

    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    tab_to(client, "[data-accept] input[name=accept]")
    client.keyboard.press("Space")
    expect(client.locator("[data-accept] input[name=accept]")).to_be_checked()
    tab_to(client, "[data-accept] button")
    client.keyboard.press("Enter")
    # The disclaimer is gone; the focus goes on to the camera check.
    expect(client.locator("#device-check")).to_be_focused()
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")

    staff = staff_context.new_page()
    staff.goto(live_server.url(org.subdomain, "/login"))
    tab_to(staff, "input[name=email]")
    staff.keyboard.type(doctor.email)
    tab_to(staff, "input[name=password]")
    staff.keyboard.type(PASSWORD)
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    assert "/login" not in staff.url

    # The skip link comes first; the menu's waiting room after it.
    tab_to(staff, "a.skip")
    tab_to(staff, 'nav.menu a[href$="/waiting-room"]')
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")
    entry = staff.locator(".waiting-entry", has_text="Bakker")
    expect(entry).to_be_visible()
    tab_to(staff, ".waiting-entry [data-call-in]")
    staff.keyboard.press("Enter")
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-room]")).to_be_visible()
    expect(client.locator("[data-room]")).to_be_visible()
    for page in (client, staff):
        wait_for_media(page, video=1)
        poll(page, "window.__said.includes('You are in the consultation room.')")
    expect(client.locator("[data-room]")).to_be_focused()

    # Past the menu with the skip link, then to the toolbar.
    tab_to(staff, "a.skip")
    staff.keyboard.press("Enter")
    tab_to(staff, "[data-action=microphone]")
    microphone = staff.locator("[data-action=microphone]")
    staff.keyboard.press("Space")
    expect(microphone).to_have_attribute("aria-pressed", "true")
    expect(microphone).to_have_text("Unmute microphone")
    assert staff.evaluate(
        "() => [...document.querySelectorAll('[data-self]')].every((v) =>"
        " v.srcObject.getAudioTracks().every((t) => !t.enabled))"
    )

    # The side panel's tabs follow the arrow keys; Escape gives the focus back.
    tab_to(staff, "[data-action=files]")
    staff.keyboard.press("Enter")
    expect(staff.locator("#room-tab-files")).to_be_focused()
    staff.keyboard.press("ArrowRight")
    expect(staff.locator("#room-tab-participants")).to_be_focused()
    expect(staff.locator("#room-tab-participants")).to_have_attribute("aria-selected", "true")
    staff.keyboard.press("Escape")
    expect(staff.locator("[data-room-panel]")).to_be_hidden()
    expect(staff.locator("[data-action=participants]")).to_be_focused()

    # "End consultation" asks the browser's confirm(), which Enter accepts.
    staff.once("dialog", lambda dialog: dialog.accept())
    tab_to(staff, "[data-action=end]")
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    expect(client.locator("[data-ended]")).to_be_visible()
    expect(client.locator("[data-room]")).to_be_hidden()
    poll(client, "window.__said.some((s) => s.startsWith('The consultation has ended'))")
    expect(client.locator("[data-ended] h1")).to_be_focused()
