"""The staff shell in real Chromium: the grouped menu is a sidebar on a wide
screen and folds behind a real "Menu" button (aria-expanded) on a phone;
the live waiting count in the header, on a page that is not the waiting
list, counts a client who arrives."""

from playwright.sync_api import expect

from consultroom.accounts.models import Role


def test_the_menu_folds_behind_a_button_on_a_phone(live_data, live_server, staff_context, log_in):
    org = live_data.organisation(name="Clinic")
    admin = live_data.user(org, role=Role.org_admin, name="Ada Admin")
    page = staff_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, admin)
    menu, toggle = page.locator("nav.menu"), page.locator(".menu-toggle")
    # Wide: a sidebar beside the page, its groups headed, no button.
    expect(menu).to_be_visible()
    expect(toggle).to_be_hidden()
    box = menu.bounding_box()
    assert box["x"] == 0 and box["width"] < 300 and box["height"] > 400, box
    for title in ("Daily work", "Organisation", "Departments and staff", "My account"):
        expect(menu.locator(".menu-heading", has_text=title)).to_be_visible()
    expect(page.locator("ul.menu-people a", has_text="Staff")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="Appointments")).to_be_in_viewport()
    # Escape from inside the menu folds it and gives the focus back to the button.
    menu.get_by_role("link", name="Appointments").focus()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()
    # The keyboard opens it too.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="Clients").click()
    page.wait_for_url("**/clients")
    expect(menu).to_be_hidden()


def test_the_header_counts_a_client_who_arrives_on_any_staff_page(
    live_data, start_live_server, client_context, staff_context, log_in
):
    # A short grace period, so that the departure shows without a long wait.
    # (The session cookie from the login on the shared server holds here:
    # cookies do not tell ports apart, and both servers share the database.)
    live_server = start_live_server(**{"realtime.grace_seconds": "2"})
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Mulder")
    )
    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/clients"))
    badge = staff.locator("[data-shell-waiting-link]")
    expect(badge.locator("[data-waiting-count]")).to_have_text("0")
    # The light socket is up once the (empty) list has come.
    expect(badge).to_have_attribute("aria-label", "No one is waiting.")

    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(badge.locator("[data-waiting-count]")).to_have_text("1")
    expect(staff.locator("[data-shell-announce]")).to_have_text(
        "A client has arrived. 1 client is waiting."
    )
    expect(staff.locator('nav.menu a[href$="/waiting-room"]')).to_have_text("Waiting room (1)")
    client.close()
    # Gone after the grace period: the count follows without a reload.
    expect(badge.locator("[data-waiting-count]")).to_have_text("0", timeout=15_000)
