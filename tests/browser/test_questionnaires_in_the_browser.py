"""The questionnaires plugin in real Chromium: an organisation admin builds
a questionnaire with every field type (moving one with the keyboard), books
an appointment with it as required before the waiting room; the client
fills in part of it (saved as they go, without a button), leaves, comes
back and finds their answers, sends it,
and only then enters the waiting room; the practitioner calls them in and
reads the answers in the room's side panel; the admin sees that read on
the questionnaire's page."""

import base64
import io
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from consultroom_questionnaires.crypto import SETTING
from consultroom_questionnaires.models import Questionnaire, Response
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.db import utcnow
from consultroom.plugins.models import PluginEnablement

FIELDS = [
    ("title", "About you", "", "", False),
    ("paragraph", "Please answer honestly.", "", "", False),
    ("short_text", "Your GP", "The name of your doctor", "", True),
    ("long_text", "Complaints", "", "", False),
    ("single_choice", "Smoking", "", "Never\nStopped\nYes", False),
    ("multiple_choice", "Allergies", "", "Pollen\nPenicillin\nNuts", False),
    ("dropdown", "Blood group", "", "A\nB\nAB\n0", False),
    ("date", "Date of birth", "", "", True),
    ("number", "Weight in kg", "", "", False),
    ("yes_no", "Pregnant", "", "", False),
    ("country", "Country of birth", "", "", False),
    ("image", "Photo of the rash", "", "", False),
]


@pytest.fixture(scope="module")
def server(start_live_server):
    """A server of its own with a key encryption key in its settings."""
    return start_live_server(**{SETTING: base64.urlsafe_b64encode(os.urandom(32)).decode()})


def _png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _build(page, server, org):
    page.goto(server.url(org.subdomain, "/"))
    page.get_by_role("link", name="Questionnaires").click()
    page.get_by_label("Title").fill("Intake")
    page.get_by_label("Required before the waiting room").check()
    page.get_by_role("button", name="Create").click()
    expect(page.locator("h1")).to_have_text("Intake")
    add = page.locator("#add-field")
    for kind, label, help_text, options, required in FIELDS:
        add.get_by_label("Type").select_option(kind)
        add.get_by_label("Label").fill(label)
        add.get_by_label("Help text").fill(help_text)
        add.locator("#new-options").fill(options)
        if required:
            add.get_by_label("Required").check()
        add.get_by_role("button", name="Add field").click()
        expect(page.locator(".flash")).to_contain_text("Field added.")
    expect(page.locator("li[data-field]")).to_have_count(len(FIELDS))
    # Reorder with the keyboard: the country up above the yes/no question.
    move = page.get_by_role("button", name="Move Country of birth up")
    move.focus()
    page.keyboard.press("Enter")
    headings = page.locator("li[data-field] h3")
    expect(headings.nth(9)).to_contain_text("Country of birth")
    expect(headings.nth(10)).to_contain_text("Pregnant")


def _book(page, server, org, client):
    page.goto(server.url(org.subdomain, "/appointments/new"))
    field = page.locator("#client_id")
    field.press_sequentially("Mulder", delay=30)
    expect(page.locator("#client_id-options [role=option]")).to_have_text(["A. Mulder"])
    field.press("ArrowDown")
    field.press("Enter")
    page.locator("#practitioner_id").select_option(label="Dr. Jansen")
    start = (utcnow() + timedelta(minutes=3)).replace(tzinfo=ZoneInfo("UTC"))
    local = start.astimezone(ZoneInfo(org.timezone))
    page.locator("#date").fill(local.strftime("%Y-%m-%d"))
    page.locator("#start_time").fill(local.strftime("%H:%M"))
    page.locator("#questionnaires_questionnaire").select_option(label="Intake")
    page.locator("#questionnaires_required").select_option("required")
    page.locator("form button[type=submit].primary").last.click()
    expect(page.locator(".flash")).to_be_visible()


def test_build_book_fill_in_part_resume_send_and_read_in_the_room(
    server, live_data, live_db, client_context, staff_context, new_context, log_in
):
    org = live_data.organisation(name="Clinic")
    live_data._save(PluginEnablement(organisation_id=org.id, plugin="questionnaires", enabled=True))
    admin = live_data.user(org, role=Role.org_admin, name="Ada Admin")
    doctor = live_data.user(org, name="Dr. Jansen")
    client = live_data.client(org, last_name="Mulder")

    admin_page = new_context().new_page()
    log_in(admin_page, admin)
    _build(admin_page, server, org)
    _book(admin_page, server, org, client)
    live_db.expire_all()
    appointment = live_db.scalar(select(Appointment).where(Appointment.client_id == client.id))
    response = live_db.scalar(select(Response).where(Response.appointment_id == appointment.id))
    assert response.required

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")

    # The client fills in part, saves and leaves.
    visitor = client_context.new_page()
    link = server.url(org.subdomain, f"/c/{appointment.token}")
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Before the waiting room")
    visitor.get_by_role("link", name="Continue: Intake").click()
    visitor.get_by_label("Your GP").fill("Dr. Bakker")
    visitor.get_by_label("Complaints").fill("An itching rash on my arm")
    visitor.get_by_role("radio", name="Stopped").check()
    visitor.get_by_role("checkbox", name="Pollen").check()
    visitor.get_by_role("checkbox", name="Nuts").check()
    # Saved as they go, without a button: they just leave.
    expect(visitor.locator("[data-autosave-status]")).to_contain_text("Your answers are saved")
    visitor.close()
    expect(staff.locator(".waiting-entry")).to_have_count(0)

    # Back later: the link still leads to the questionnaire, answers kept.
    visitor = client_context.new_page()
    visitor.goto(link)
    expect(visitor.locator("[data-waiting-page]")).to_have_count(0)
    visitor.get_by_role("link", name="Continue: Intake").click()
    expect(visitor.get_by_label("Your GP")).to_have_value("Dr. Bakker")
    expect(visitor.get_by_role("checkbox", name="Nuts")).to_be_checked()
    visitor.get_by_role("button", name="Send").click()  # the date of birth is missing
    expect(visitor.locator("#field-" + _key(live_db, "Date of birth") + " .error")).to_have_text(
        "Please answer this question."
    )
    visitor.get_by_label("Date of birth").fill("1980-02-29")
    visitor.get_by_label("Blood group").select_option("AB")
    visitor.get_by_label("Weight in kg").fill("72,5")
    visitor.get_by_label("Country of birth").select_option("NL")
    visitor.locator("fieldset", has_text="Pregnant").get_by_role("radio", name="No").check()
    visitor.get_by_label("Photo of the rash").set_input_files(
        files=[{"name": "rash.png", "mimeType": "image/png", "buffer": _png()}]
    )
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("[data-waiting-page]")).to_be_visible()
    expect(visitor.locator("[data-connection]")).to_have_attribute("data-state", "online")

    # The practitioner calls them in and reads the answers in the side panel.
    entry = staff.locator(".waiting-entry", has_text="Mulder")
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    staff.locator("[data-action=participants]").click()  # opens the side panel
    staff.locator('[data-room-tab="questionnaires"]').click()
    panel = staff.locator('[data-room-tab-panel="questionnaires"]')
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Dr. Bakker")
    expect(panel).to_contain_text("Pollen, Nuts")
    expect(panel).to_contain_text("Netherlands")
    expect(panel.get_by_role("link", name="View the image")).to_be_visible()

    # The admin sees who read the answers, and where.
    live_db.expire_all()
    questionnaire = live_db.scalar(
        select(Questionnaire).where(Questionnaire.organisation_id == org.id)
    )
    admin_page.goto(server.url(org.subdomain, f"/questionnaires/{questionnaire.id}"))
    views = admin_page.locator(".questionnaire-views tbody tr")
    expect(views.first).to_contain_text("Dr. Jansen")
    expect(views.first).to_contain_text("A. Mulder")
    expect(views.first).to_contain_text("room")


def _key(live_db, label):
    live_db.expire_all()
    version = live_db.scalar(select(Questionnaire)).latest
    return next(f["key"] for f in version.fields if f["label"] == label)
