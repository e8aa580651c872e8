"""WCAG 2.2 AA in real Chromium: axe-core (fetched from the npm registry by
scripts/fetch-axe, never by the tests) runs on every page an organisation
admin reaches from the staff menu (with the bundled plugins enabled: their
pages too), a client's and an appointment's page, the client's waiting
room, the room on both sides, the client portal (its PIN step, and opened
with the mailed PIN), the booking
and walk-in widgets and the login page, in English and in Dutch, and finds
no violation of the WCAG 2.0, 2.1 and 2.2 level A and AA rules. The pages
checked are printed (and asserted) as the run's summary."""

import email
import email.policy
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom.plugins.models import PluginEnablement
from consultroom.widgets.models import WalkInWidget

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("CONSULTROOM_AXE", ROOT / ".cache" / "axe-core" / "axe.min.js"))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
RUN_AXE_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is missing at {AXE}: run scripts/fetch-axe (scripts/test does)",
            pytrace=False,
        )
    return AXE.read_text(encoding="utf-8")


class Checker:
    """Runs axe on pages and keeps the list of what it checked."""

    def __init__(self, axe_source, language):
        self.axe_source = axe_source
        self.language = language
        self.checked = []
        self.problems = []

    def check(self, page, name):
        page.wait_for_load_state("load")
        # axe is put into the page through DevTools, which the page's
        # Content-Security-Policy (no inline script, no eval) does not govern.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        violations = page.evaluate(RUN_AXE_JS, WCAG_TAGS)
        path = urlsplit(page.url).path
        self.checked.append(f"[{self.language}] {name}: {path} — {len(violations)} violations")
        for v in violations:
            self.problems.append(
                f"[{self.language}] {name} ({path}): {v['id']} ({v['impact']}) {v['help']}\n    "
                + "\n    ".join(v["nodes"])
            )


BUNDLED_PLUGINS = ["chat", "payments", "questionnaires", "sso"]
PIN_BUTTON = {"en": "Send me a PIN", "nl": "Stuur mij een pincode"}
PIN = re.compile(r"^\s+([0-9]{6})\s*$", re.M)


def _mailed_pin(live_server, client, timeout=15):
    """The PIN in the newest mail to ``client``."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(Path(live_server.settings["mail.folder"]).glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found = PIN.findall(message.get_body(("plain",)).get_content())
            if message["To"] == client.email and found:
                return found[0]
        assert time.monotonic() < deadline, "no PIN mailed"
        time.sleep(0.2)


def _menu_links(page):
    return page.locator("nav.menu a").evaluate_all(
        "(links) => links.map((a) => [a.textContent.trim(), a.getAttribute('href')])"
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_page_passes_axe(
    language, axe_source, live_data, live_db, live_server, new_context, log_in, capsys
):
    org = live_data.organisation(name="Clinic", contact_phone="+31 20 123 4567")
    department = live_data.department(org, "General practice")
    admin = live_data.user(org, role=Role.org_admin, name="Ada Admin", language=language)
    client = live_data.client(
        org, last_name="Bakker", language=language, email=f"bakker-{org.id}@example.org"
    )
    appointment = live_data.appointment(org, practitioner=admin, client=client)
    live_data.appointment(
        org,
        practitioner=admin,
        client=live_data.client(org, last_name="Visser", language=language),
        starts_at=utcnow().replace(microsecond=0) + timedelta(hours=2),
    )
    widget = WalkInWidget(organisation_id=org.id, name="Walk-in", departments=[department])
    live_db.add(widget)
    # The bundled plugins' pages are the staff UI's too.
    for plugin in BUNDLED_PLUGINS:
        live_db.add(PluginEnablement(organisation_id=org.id, plugin=plugin, enabled=True))
    live_db.commit()
    axe = Checker(axe_source, language)

    visitor = new_context().new_page()
    visitor.goto(live_server.url(org.subdomain, f"/login?_LOCALE_={language}"))
    axe.check(visitor, "login")
    visitor.goto(live_server.url(org.subdomain, "/book"))
    axe.check(visitor, "booking widget")
    visitor.goto(live_server.url(org.subdomain, f"/walk-in/{widget.public_id}"))
    axe.check(visitor, "walk-in widget")
    visitor.goto(live_server.url(org.subdomain, f"/portal/{client.portal_token}"))
    axe.check(visitor, "client portal (PIN step)")
    visitor.get_by_role("button", name=PIN_BUTTON[language]).click()
    visitor.get_by_role("textbox").fill(_mailed_pin(live_server, client))
    visitor.locator(".pin-form button").click()
    expect(visitor.locator("form[action$='/leave']")).to_be_attached()
    axe.check(visitor, "client portal (opened)")

    patient = new_context().new_page()
    patient.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(patient.locator("[data-connection]")).to_have_attribute("data-state", "online")
    axe.check(patient, "client waiting room")

    staff = new_context().new_page()
    log_in(staff, admin)
    links = _menu_links(staff)
    assert len(links) > 10, links
    for label, href in links:
        staff.goto(live_server.url(org.subdomain, href))
        axe.check(staff, f"menu: {label}")
    staff.goto(live_server.url(org.subdomain, f"/clients/{client.id}"))
    axe.check(staff, "client detail")
    staff.goto(live_server.url(org.subdomain, f"/appointments/{appointment.id}"))
    axe.check(staff, "appointment detail")

    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Bakker")
    expect(entry).to_be_visible()
    axe.check(staff, "waiting list with a client")
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-room]")).to_be_visible()
    expect(patient.locator("[data-room]")).to_be_visible()
    axe.check(staff, "room (staff)")
    axe.check(patient, "room (client)")

    with capsys.disabled():
        print(
            f"\naxe-core {AXE.parent.joinpath('VERSION').read_text().strip()}, "
            f"tags {', '.join(WCAG_TAGS)}: {len(axe.checked)} pages checked"
        )
        for line in axe.checked:
            print("  " + line)
    assert not axe.problems, "\n".join(axe.problems)
