"""Themes in real Chromium (issue 19): an organisation with the bundled calm
theme gets its room layout (the side panel under the toolbar, large type, its
own header region) while another organisation keeps the default layout; its
custom CSS applies under the page's Content-Security-Policy; and refused
CSS shows its reason on the form."""

import pytest
import test_accessibility
import test_room_layout
from playwright.sync_api import expect
from test_room_layout import _place, _within

from consultroom.accounts.models import Role
from consultroom.plugins.models import PluginEnablement

# The room_layout tests' call (practitioner and client in the room), here
# with this module's organisations.
call = test_room_layout.call
axe_source = test_accessibility.axe_source
CUSTOM_CSS = ".room-stage {outline: 5px solid rgb(1, 2, 3)}"


@pytest.fixture(params=["calm", ""])
def clinic(request, live_data, live_db):
    """The room_layout tests' organisation, with the calm theme or the standard one."""
    org = live_data.organisation(
        name="Clinic",
        options={"file_sharing": True},
        theme=request.param,
        custom_css=CUSTOM_CSS if request.param else "",
    )
    live_db.add(PluginEnablement(organisation_id=org.id, plugin="roomkit", enabled=True))
    live_db.commit()
    return org, live_data.user(org, name="Dr. Jansen")


def _areas(page):
    return page.locator("[data-room]").evaluate("(e) => getComputedStyle(e).gridTemplateAreas")


def test_the_organisations_theme_lays_out_its_room(call):
    org, _doctor, _appointment, client, staff = call
    calm = org.theme == "calm"
    staff.set_viewport_size({"width": 1280, "height": 800})
    client.set_viewport_size({"width": 1280, "height": 800})
    for page in (staff, client):
        page.locator("[data-action=files]").click()
        expect(page.locator("[data-room-panel]")).to_be_visible()
        page.wait_for_timeout(300)
        toolbar, panel = _place(page, "[data-region=toolbar]"), _place(page, "[data-room-panel]")
        stage = _place(page, "[data-region=stage]")
        if calm:
            assert _areas(page) == '"bar" "stage" "controls" "panel"'
            # The panel under the toolbar, as wide as the stage.
            assert panel["y"] >= toolbar["bottom"] and abs(panel["width"] - stage["width"]) < 2
            assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
            expect(page.locator(".room-calm-title")).to_have_text("Your video consultation")
            outline = page.locator("[data-region=stage]").evaluate(
                "(e) => getComputedStyle(e).outlineColor"
            )
            assert outline == "rgb(1, 2, 3)"  # the organisation's custom CSS
        else:
            assert _areas(page) == '"bar panel" "stage panel" "controls panel"'
            assert panel["x"] >= stage["right"] and panel["y"] < toolbar["y"]
            assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "16px"
            expect(page.locator(".room-calm-title")).to_have_count(0)
        # Either way every control stays in the window and uncovered.
        assert _within(toolbar, 1280, 800)
        for control in ("[data-action=microphone]", "[data-action=camera]"):
            place = _place(page, control)
            assert _within(place, 1280, 800) and place["uncovered"], (control, place)
        assert _within(panel, 1280, 800)


@pytest.mark.parametrize("clinic", ["calm"], indirect=True)
def test_the_calm_theme_passes_axe(call, axe_source, live_server, live_data, new_context):
    org, doctor, _appointment, client, staff = call
    axe = test_accessibility.Checker(axe_source, "en")
    later = live_data.appointment(org, practitioner=doctor)
    waiting = new_context().new_page()
    waiting.goto(live_server.url(org.subdomain, f"/c/{later.token}"))
    expect(waiting.locator("[data-connection]")).to_have_attribute("data-state", "online")
    assert waiting.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    axe.check(waiting, "waiting room (calm)")
    axe.check(client, "room (client, calm)")
    axe.check(staff, "room (staff, calm)")
    client.goto(live_server.url(org.subdomain, "/login"))
    axe.check(client, "login (calm)")
    assert not axe.problems, "\n".join(axe.problems)


def test_refused_custom_css_shows_its_reason(live_data, live_server, log_in, staff_context):
    org = live_data.organisation(name="Clinic")
    admin = live_data.user(org, role=Role.org_admin)
    page = staff_context.new_page()
    log_in(page, admin)
    page.goto(live_server.url(org.subdomain, "/organisation"))
    page.fill("#custom_css", "@import url(https://evil.example/x.css);\na { color: red }")
    page.locator("form[action='/organisation'] [type=submit]").click()
    field = page.locator("#custom_css").locator("xpath=..")
    expect(field).to_contain_text("Line 1: @import is not allowed")
    page.fill("#custom_css", "a { background: url(http://evil.example/x.png) }")
    page.locator("form[action='/organisation'] [type=submit]").click()
    expect(field).to_contain_text("url() may only point to a path on this site")
    # Nothing was saved: the page has no custom stylesheet.
    page.goto(live_server.url(org.subdomain, "/organisation"))
    expect(page.locator('link[href^="/custom.css"]')).to_have_count(0)
