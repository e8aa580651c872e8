"""The walk-in widget in real Chromium, live: a visitor has the widget page
open while the practitioner works the walk-in switch in their waiting room;
the practitioner leaves the visitor's list within a second of switching
off and comes back on switching on, without a reload."""

import time

from playwright.sync_api import expect
from test_walk_in_live import walk_in_block

from consultroom.widgets.models import WalkInWidget

WITHIN_MS = 1000


def test_the_widget_follows_the_switch_live(
    live_data, live_server, live_db, new_context, staff_context, log_in
):
    org = live_data.organisation(name="Clinic")
    doctor = live_data.user(org, name="Dr. Jansen")
    widget = WalkInWidget(
        organisation_id=org.id, name="Walk-in hours", absence_text="Nobody is here right now."
    )
    live_db.add_all([widget, walk_in_block(org, doctor)])
    live_db.commit()

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")

    visitor = new_context().new_page()
    visitor.goto(live_server.url(org.subdomain, f"/walk-in/{widget.public_id}"))
    expect(visitor.locator("[data-walk-in]")).to_have_attribute("data-live", "true")
    offered = visitor.locator(".walk-in-list a", has_text="Dr. Jansen")
    expect(offered).to_have_count(0)
    expect(visitor.get_by_text("Nobody is here right now.")).to_be_visible()

    staff.locator("[data-walk-in]").check()
    expect(offered).to_be_visible(timeout=WITHIN_MS)
    expect(visitor.get_by_text("Nobody is here right now.")).to_be_hidden()

    started = time.monotonic()
    staff.locator("[data-walk-in]").uncheck()
    expect(offered).to_have_count(0, timeout=WITHIN_MS)
    assert time.monotonic() - started < WITHIN_MS / 1000 + 0.2  # the uncheck's own time
    expect(visitor.get_by_text("Nobody is here right now.")).to_be_visible()

    staff.locator("[data-walk-in]").check()
    expect(offered).to_be_visible(timeout=WITHIN_MS)
    offered.click()
    expect(visitor.locator("form input[name=last_name]")).to_be_visible()
