"""The client's waiting page in words for patients, in real Chromium: sent
back from the room they read that the practitioner will call them back;
after the organisation's "reassure after" minutes they read that they are
not forgotten, with the practice's phone number; each said in the page's
live region (role=status)."""

import re

from playwright.sync_api import expect

# Every text the state region shows, in order (it may change quickly).
RECORD_SAID_JS = """() => {
  window.__said = [];
  const region = document.querySelector('[data-state-text]');
  new MutationObserver(() => window.__said.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


def _waiting_client(context, live_server, org, appointment):
    page = context.new_page()
    page.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")
    return page


def test_a_client_sent_back_reads_they_will_be_called_back(
    live_data, live_server, client_context, staff_context, log_in
):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Dekker")
    )
    client = _waiting_client(client_context, live_server, org, appointment)
    state = client.locator("[data-state-text]")
    expect(state).to_have_attribute("role", "status")
    expect(state).to_be_hidden()  # nothing to say yet

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    staff.locator(".waiting-entry", has_text="Dekker").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    staff.locator("[data-action=send-back]").click()
    expect(client.locator("[data-waiting]")).to_be_visible()
    expect(state).to_have_text(
        "You are back in the waiting room. The practitioner will call you back in a moment;"
        " keep this page open."
    )


def test_a_client_who_waits_long_is_reassured_with_the_phone_number(
    live_data, live_server, client_context
):
    org = live_data.organisation(
        name="Clinic", options={"waiting_long_minutes": 2}, contact_phone="020 123 4567"
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(org, practitioner=doctor)
    page = client_context.new_page()
    page.clock.install()
    page.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    # The count starts when the server has put the client in the waiting
    # room, which may come a moment after the socket is online.
    waiting_page = page.locator("[data-waiting-page]")
    expect(waiting_page).to_have_attribute("data-waiting-since", re.compile("."))
    page.evaluate(RECORD_SAID_JS)
    reassurance = (
        "You have been waiting a while. You have not been forgotten: the practitioner knows"
        " you are here and will call you in. Questions? Call 020 123 4567."
    )
    # The jump also silences the socket's watchdog, so the page may
    # reconnect and say so; only the reassurance is counted here.
    page.clock.fast_forward("01:50")
    assert reassurance not in page.evaluate("window.__said")
    page.clock.fast_forward("00:15")
    said = page.evaluate("window.__said")
    assert reassurance in said, said
