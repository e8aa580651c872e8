"""A published web page in real Chromium: on its own subdomain it shows the
organisation's booking widget in an iframe (framed across origins, which
the widget allows for the organisation's published page sets), and a
visitor books an appointment through it; an unpublished set is not found.
The public page and the editor's pages pass axe's WCAG 2.2 AA rules."""

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from test_accessibility import AXE, Checker

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.timezones import local_now
from consultroom.webpages.models import WebImage, WebPage, WebPageSet

# A 2 × 1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd0000000f49444154"
    "789c636468686060600000048e01021ca72f740000000049454e44ae426082"
)


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


@pytest.fixture(scope="module")
def axe_script():
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run scripts/fetch-axe"
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["en", "nl"])
def test_web_pages_are_accessible(
    live_data, live_server, live_db, new_context, log_in, axe_script, language
):
    org = live_data.organisation(name="Janssen Practice", language=language)
    admin = live_data.user(org, role=Role.org_admin, language=language)
    made = page_set(org, f"dr{org.subdomain}", published=True)
    made.header_image = WebImage(
        organisation_id=org.id, name="Front", width=2, height=1, size=len(PNG), data=PNG
    )
    live_db.add(made)
    live_db.commit()
    axe = Checker(axe_script, language)

    visitor = new_context(locale=language).new_page()
    visitor.goto(live_server.url(f"dr{org.subdomain}", f"/?_LOCALE_={language}"))
    axe.check(visitor, "published page")
    visitor.goto(live_server.url(f"dr{org.subdomain}", "/1"))
    axe.check(visitor, "follow-up page")

    staff = new_context().new_page()
    log_in(staff, admin)
    for name, path in (
        ("web pages", "/webpages"),
        ("new set", "/webpages/new"),
        ("set editor", f"/webpages/{made.id}"),
        ("page editor", f"/webpages/pages/{made.pages[0].id}"),
        ("media", "/webpages/media"),
        ("preview", f"/webpages/pages/{made.pages[0].id}/preview"),
    ):
        staff.goto(live_server.url(org.subdomain, path))
        axe.check(staff, name)
    assert len(axe.checked) == 8
    assert not axe.problems, "\n".join(axe.problems)
