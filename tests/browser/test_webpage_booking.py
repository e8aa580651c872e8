"""A published web page in real Chromium: on its own subdomain it shows the
organisation's booking widget in an iframe (framed across origins, which
the widget allows for the organisation's published page sets), and a
visitor books an appointment through it; an unpublished set is not found."""

from datetime import time, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.timezones import local_now
from consultroom.webpages.models import WebPage, WebPageSet


def page_set(org, slug, published):
    made = WebPageSet(organisation_id=org.id, name="Dr Janssen", slug=slug, published=published)
    made.pages = [
        WebPage(
            organisation_id=org.id,
            position=0,
            menu_title="Welcome",
            title="Book a video consultation",
            main_text="<p>Choose a time below.</p>",
            widget="booking",
        ),
        WebPage(organisation_id=org.id, position=1, menu_title="Prices"),
    ]
    return made


def test_a_visitor_books_through_a_published_page(live_data, live_server, live_db, new_context):
    org = live_data.organisation(name="Janssen Practice")
    doctor = live_data.user(org, name="Dr. Janssen")
    tomorrow = local_now(org).date() + timedelta(days=1)
    live_db.add_all(
        [
            AvailabilityBlock(
                organisation_id=org.id,
                practitioner_id=doctor.id,
                on_date=tomorrow,
                start_time=time(9),
                end_time=time(10),
                slot_minutes=20,
                gap_minutes=10,
            ),
            page_set(org, f"dr{org.subdomain}", published=True),
            page_set(org, f"hidden{org.subdomain}", published=False),
        ]
    )
    live_db.commit()

    visitor = new_context().new_page()
    response = visitor.goto(live_server.url(f"dr{org.subdomain}", "/"))
    assert response.ok and response.headers["etag"]
    expect(visitor.get_by_role("heading", name="Book a video consultation")).to_be_visible()
    expect(visitor.locator(".webpage-menu a")).to_have_text(["Welcome", "Prices"])

    widget = visitor.frame_locator("iframe.webpage-widget")
    widget.get_by_role("link", name="Dr. Janssen").click()
    widget.locator(".slots a").first.click()
    widget.get_by_label("Last name").fill("Visser")
    widget.get_by_label("Date of birth").fill("1980-04-02")
    widget.get_by_label("E-mail").fill("visser@example.org")
    widget.get_by_label("I agree that my details are used").check()
    widget.get_by_role("button", name="Book this time").click()
    expect(widget.get_by_role("heading", name="Your appointment is booked")).to_be_visible()

    live_db.expire_all()
    [appointment] = live_db.scalars(
        select(Appointment).where(Appointment.organisation_id == org.id)
    ).all()
    assert appointment.practitioner_id == doctor.id
    assert appointment.client.last_name == "Visser"

    hidden = visitor.goto(live_server.url(f"hidden{org.subdomain}", "/"))
    assert hidden.status == 404
    hidden = visitor.goto(live_server.url(org.subdomain, f"/site/hidden{org.subdomain}"))
    assert hidden.status == 404
