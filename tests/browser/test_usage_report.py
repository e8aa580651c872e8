"""The usage report's graph in real Chromium: after the nightly figures of
a few weeks of appointments, the organisation admin's report draws the
server-side SVG graph, and its picture is not blank."""

import io
from datetime import timedelta

from PIL import Image

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom.reports.compute import refresh
from consultroom.room.models import Room


def test_the_report_draws_its_graph(live_data, live_db, live_server, staff_context, log_in):
    org = live_data.organisation(name="Clinic")
    admin = live_data.user(org, role=Role.org_admin, name="Org Admin")
    doctor = live_data.user(org, name="Dr. Jansen")
    now = utcnow()
    for day in range(1, 25):
        for n in range(day % 4 + 1):
            appointment = live_data.appointment(
                org, practitioner=doctor, starts_at=now - timedelta(days=day, minutes=30 * n)
            )
            if n % 2 == 0:  # held; the others are no-shows
                live_data._save(
                    Room(
                        organisation_id=org.id,
                        appointment_id=appointment.id,
                        started_at=appointment.starts_at,
                        ended_at=appointment.starts_at + timedelta(minutes=15),
                    )
                )
    refresh(live_db, org)  # what the worker does at night
    live_db.commit()

    page = staff_context.new_page()
    log_in(page, admin)
    page.goto(live_server.url(org.subdomain, "/reports/usage"))
    graph = page.locator("figure.graph svg")
    assert graph.locator("rect.held").count() > 10
    assert graph.locator("rect.no-show").count() > 5
    picture = Image.open(io.BytesIO(graph.screenshot())).convert("RGB")
    colours = picture.getcolors(maxcolors=100_000)
    # Background, axis, labels and two series: many colours, and bars of ink.
    assert len(colours) > 5
    assert sum(count for count, rgb in colours if sum(rgb) < 600) > 1_000
