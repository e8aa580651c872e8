"""The client and participants fields with JavaScript, in real Chromium: the
text field is a combobox (ARIA attributes) offering matches as you type,
chosen with the keyboard alone, and sent with the form as ids."""

from playwright.sync_api import expect

from consultroom.accounts.models import Role
from consultroom.clients.models import Participant


def test_choose_a_client_and_a_participant_with_the_keyboard(
    live_data, live_server, live_db, new_context, log_in
):
    org = live_data.organisation(name="Clinic")
    admin = live_data.user(org, role=Role.org_admin, name="Ada Admin")
    live_data.client(org, initials="P.", last_name="Jansen")
    janssens = live_data.client(org, initials="K.", last_name="Janssens", client_number="N-2")
    aunt = Participant(organisation_id=org.id, initials="T.", last_name="de Groot")
    live_db.add(aunt)
    live_db.commit()
    page = new_context().new_page()
    log_in(page, admin)
    page.goto(live_server.url(org.subdomain, "/appointments/new"))

    field = page.locator("#client_id")
    expect(field).to_have_attribute("role", "combobox")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.press_sequentially("jans", delay=30)
    options = page.locator("#client_id-options [role=option]")
    expect(options).to_have_text(["P. Jansen", "K. Janssens (N-2)"])
    expect(field).to_have_attribute("aria-expanded", "true")
    field.press("ArrowDown")
    field.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", "client_id-options-1")
    field.press("Enter")  # chooses; does not send the form
    expect(field).to_have_value("K. Janssens (N-2)")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(page.locator("input[type=hidden][name=client_id]")).to_have_value(str(janssens.id))
    assert page.url.endswith("/appointments/new")

    people = page.locator("#participant_ids")
    people.press_sequentially("groot", delay=30)
    expect(page.locator("#participant_ids-options [role=option]")).to_have_text(["T. de Groot"])
    people.press("ArrowDown")
    people.press("Enter")
    expect(people).to_have_value("")
    expect(page.locator("input[type=checkbox][name=participant_ids]:checked")).to_have_count(1)
    # Escape closes the list without choosing.
    people.press_sequentially("groot", delay=30)
    expect(people).to_have_attribute("aria-expanded", "true")
    people.press("Escape")
    expect(people).to_have_attribute("aria-expanded", "false")
    people.fill("")

    # What the form sends: the ids chosen (the server's side of it is tested
    # in tests/test_client_picker.py).
    sent = page.evaluate(
        "[...new FormData(document.querySelector('#client_id').form)]"
        ".filter(([name]) => name.endsWith('_id') || name.endsWith('_ids'))"
    )
    assert ["client_id", str(janssens.id)] in sent
    assert ["participant_ids", str(aunt.id)] in sent
