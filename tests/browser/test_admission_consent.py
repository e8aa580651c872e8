"""An admission step in real Chromium, with the consent test plugin: the
client's link leads to the consent form first, and only after "I agree"
to the waiting room, where the practitioner sees them arrive and calls
them in."""

from playwright.sync_api import expect

from consultroom.plugins.models import PluginEnablement


def test_the_client_consents_then_waits_and_is_called_in(
    live_data, live_server, client_context, staff_context, log_in
):
    org = live_data.organisation(name="Clinic")
    live_data._save(PluginEnablement(organisation_id=org.id, plugin="consent", enabled=True))
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Mulder")
    )

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")

    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("h1")).to_have_text("Before the waiting room")
    expect(client.locator('[data-step="consent.form"]')).to_contain_text("to do")
    client.get_by_role("link", name="Continue: Consent form").click()

    client.get_by_role("button", name="Continue").click()  # not ticked
    expect(client.get_by_role("alert")).to_contain_text("Tick the box to agree")
    expect(staff.locator(".waiting-entry")).to_have_count(0)

    client.get_by_label("I agree").check()
    client.get_by_role("button", name="Continue").click()
    expect(client.locator("[data-waiting-page]")).to_be_visible()
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    assert client.url.endswith(f"/c/{appointment.token}")

    entry = staff.locator(".waiting-entry", has_text="Mulder")
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
