"""A department admin keeps their department's client texts, in real
Chromium: they open E-mail templates from the menu, see their own
department's set and not another department's, find theirs with the search
box, change its invitation and save it; another department's set by its
address is a "not found" page."""

from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.clientmail.models import KINDS, Template, TemplateSet


def _set(live_data, org, name, department):
    return live_data._save(
        TemplateSet(
            organisation_id=org.id,
            name=name,
            language="en",
            departments=[department],
            templates=[Template(kind=k, subject=f"{name} {k}", body=f"{name} text") for k in KINDS],
        )
    )


def test_a_department_admin_edits_their_set_and_cannot_see_another(
    live_data, live_db, live_server, staff_context, log_in
):
    org = live_data.organisation(name="Clinic")
    gp, physio = live_data.department(org, "GP"), live_data.department(org, "Physio")
    admin = live_data.user(org, role=Role.dept_admin, name="Gerda GP", department_id=gp.id)
    ours = _set(live_data, org, "GP letters", gp)
    theirs = _set(live_data, org, "Physio letters", physio)
    ours_id, theirs_id = ours.id, theirs.id

    page = staff_context.new_page()
    log_in(page, admin)
    page.locator("nav.menu").get_by_role("link", name="E-mail templates").click()
    page.wait_for_url("**/mail-templates")
    table = page.locator("table")
    expect(table.get_by_role("cell", name="GP letters")).to_be_visible()
    expect(page.get_by_text("Physio letters")).to_have_count(0)
    # The search box finds theirs; a search for the other department's finds nothing.
    page.get_by_label("Search by name").fill("physio")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No template set matches the search.")).to_be_visible()
    page.get_by_label("Search by name").fill("letters")
    page.get_by_role("button", name="Search").click()
    expect(table.get_by_role("cell", name="GP letters")).to_be_visible()

    table.get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/mail-templates/{ours_id}")
    expect(page.get_by_label("Default for this language")).to_have_count(0)
    page.locator("#invitation_subject").fill("Your GP appointment on *|date|*")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/mail-templates")
    expect(page.get_by_text("The template set GP letters is saved.")).to_be_visible()
    live_db.expire_all()
    saved = live_db.scalars(select(Template).where(Template.template_set_id == ours_id)).all()
    assert {t.kind: t.subject for t in saved}["invitation"] == "Your GP appointment on *|date|*"

    response = page.goto(live_server.url(org.subdomain, f"/mail-templates/{theirs_id}"))
    assert response.status == 404
    expect(page.get_by_text("Physio letters")).to_have_count(0)
