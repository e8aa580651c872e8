"""Shared setup of the client e-mail tests: an organisation with two
departments and their staff, clients, and requests made outside the web
(as the command line and the worker make them)."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from pyramid.request import Request, apply_request_extensions

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment, Origin
from consultroom.appointments.service import create_appointment
from consultroom.clients.models import Client
from consultroom.tenancy.models import Department
from consultroom.testing import BASE_DOMAIN

# 10:00 in Amsterdam (winter time): 09:00 UTC.
START = datetime(2030, 3, 5, 9, 0)


@contextmanager
def org_request(app, subdomain):
    """A request for the organisation at ``subdomain``, in a transaction of
    its own that commits when the block ends (mail is sent then)."""
    request = Request.blank("/", base_url=f"http://{subdomain}.{BASE_DOMAIN}")
    request.registry = app.registry
    apply_request_extensions(request)
    with request.tm:
        yield request


@dataclass
class Clinic:
    org: object
    gp: Department
    physio: Department
    gp_practitioner: User
    physio_practitioner: User
    gp_admin: User
    org_admin: User
    client: Client


@pytest.fixture
def clinic_oost(make_organisation, make_user, dbsession):
    org = make_organisation("clinic", name="Clinic Oost", timezone="Europe/Amsterdam")
    gp, physio = (
        Department(organisation_id=org.id, name="GP"),
        Department(organisation_id=org.id, name="Physio"),
    )
    dbsession.add_all([gp, physio])
    dbsession.flush()
    client = Client(
        organisation_id=org.id,
        initials="A.",
        last_name="de Vries",
        email="a.devries@example.org",
        language="en",
    )
    dbsession.add(client)
    dbsession.flush()
    return Clinic(
        org=org,
        gp=gp,
        physio=physio,
        gp_practitioner=make_user(org, name="Dr. Bakker", department_id=gp.id),
        physio_practitioner=make_user(org, name="Dr. Smit", department_id=physio.id),
        gp_admin=make_user(
            org,
            role=Role.dept_admin,
            name="GP Admin",
            department_id=gp.id,
            email="gp-admin@example.org",
        ),
        org_admin=make_user(
            org, role=Role.org_admin, name="Org Admin", email="org-admin@example.org"
        ),
        client=client,
    )


def book(app, subdomain, client_id, practitioner_id=None, department_id=None, **kw):
    """Book through the appointments service, as every booking path does;
    returns the new appointment's id."""
    with org_request(app, subdomain) as request:
        db = request.dbsession
        appointment = create_appointment(
            request,
            client=db.get(Client, client_id),
            practitioner=db.get(User, practitioner_id) if practitioner_id else None,
            department=db.get(Department, department_id) if department_id else None,
            starts_at=kw.pop("starts_at", START),
            duration_minutes=kw.pop("duration", 20),
            origin=kw.pop("origin", Origin.staff),
            **kw,
        )
        return appointment.id


def load(request, appointment_id):
    return request.dbsession.get(Appointment, appointment_id)


def ics_of(message):
    """The parsed iCalendar attachment of an e-mail."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    return Calendar.from_ical(part.get_payload(decode=True))


def event_of(message):
    [event] = ics_of(message).walk("VEVENT")
    return event


def body_of(message):
    """The text, with Babel's narrow no-break space (10:00\u202fAM) as a space."""
    return message.get_body(("plain",)).get_content().replace("\u202f", " ")


def path_on(url, subdomain):
    """The path of an absolute link, after checking it is on the organisation's site."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname == f"{subdomain}.{BASE_DOMAIN}"
    return parts.path
