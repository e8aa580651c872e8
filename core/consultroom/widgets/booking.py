"""The booking widget: public pages on the organisation's site, embeddable in
an iframe on the organisation's own website. A visitor picks a practitioner
(or a department), a free slot (from scheduling's availability), and books
it with their details.

Two visitors can never get the same slot: the database's unique index
refuses the second insert (appointments.service raises SlotTaken), and the
visitor sees the form again with "this time was just taken", nothing saved.
"""

from datetime import date, datetime, timedelta

from babel.dates import format_date, format_time
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.appointments.models import Origin
from consultroom.appointments.service import AppointmentError, SlotTaken, create_appointment
from consultroom.clients.contact import client_mail_enabled
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.scheduling.service import (
    bookable_departments,
    bookable_practitioners,
    slots_between,
)
from consultroom.tenancy.models import Department
from consultroom.tenancy.timezones import local_now, to_local
from consultroom.web import ID
from consultroom.widgets.embed import TOKEN_FIELD, check_form_token, embeddable, form_token
from consultroom.widgets.forms import BookingForm

DAYS_SHOWN = 7
MAX_DAYS_AHEAD = 366
START_FORMAT = "%Y%m%dT%H%M"  # a slot's start in the URL: naive UTC
FORM = "booking"
# Literal path segments (not a {kind} placeholder), so that the tenant
# isolation walk fills in the ids of these routes too.
ROUTES = {
    "practitioner": ("book_practitioner", "book_practitioner_details"),
    "department": ("book_department", "book_department_details"),
}
KIND_OF_ROUTE = {name: kind for kind, names in ROUTES.items() for name in names}


def _owner(request):
    """The practitioner or department in the URL: ``(kind, object)``, or 404.
    Anyone not bookable (another tenant's, inactive, a department without
    strict departments) is simply not found."""
    kind, object_id = KIND_OF_ROUTE[request.matched_route.name], int(request.matchdict["id"])
    org = request.organisation
    if kind == "practitioner":
        user = request.dbsession.get(User, object_id)
        if (
            user is not None
            and user.organisation_id == org.id
            and user.active
            and user.role in STAFF_ROLES
        ):
            return kind, user
    elif kind == "department" and org.options["strict_departments"]:
        dept = request.dbsession.get(Department, object_id)
        if dept is not None and dept.organisation_id == org.id:
            return kind, dept
    raise HTTPNotFound()


def _owner_args(kind, owner):
    return {"practitioner": owner} if kind == "practitioner" else {"department": owner}


def _day_label(request, day):
    return format_date(day, "full", locale=request.formatting_locale)


def _time_label(request, utc):
    return format_time(
        to_local(utc, request.organisation), "HH:mm", locale=request.formatting_locale
    )


def _when(request, utc):
    """(local day, local time) of a naive UTC moment, for people to read."""
    return (
        _day_label(request, to_local(utc, request.organisation).date()),
        _time_label(request, utc),
    )


@view_config(route_name="book", renderer="scheduling/book_choose.html")
def choose(request):
    embeddable(request)
    org = request.organisation
    return {
        "practitioners": bookable_practitioners(request.dbsession, org),
        "departments": bookable_departments(request.dbsession, org),
    }


def _first_day(request, today):
    """The week to show: ``?from=YYYY-MM-DD`` within the bookable range, else today."""
    try:
        day = date.fromisoformat(request.params.get("from", ""))
    except ValueError:
        return today
    return min(max(day, today), today + timedelta(days=MAX_DAYS_AHEAD - DAYS_SHOWN))


def _slot_listing(request, kind, owner, first_day=None, notice=None):
    today = local_now(request.organisation).date()
    first_day = first_day or _first_day(request, today)
    last_day = first_day + timedelta(days=DAYS_SHOWN - 1)
    slots = slots_between(
        request.dbsession, request.organisation, first_day, last_day, **_owner_args(kind, owner)
    )
    days = {}
    for slot in slots:
        day = to_local(slot.starts_at, request.organisation).date()
        days.setdefault(day, []).append(
            {
                "label": _time_label(request, slot.starts_at),
                "url": request.route_path(
                    ROUTES[kind][1],
                    id=owner.id,
                    _query={"start": slot.starts_at.strftime(START_FORMAT)},
                ),
            }
        )
    previous = first_day - timedelta(days=DAYS_SHOWN) if first_day > today else None
    following = last_day + timedelta(days=1)
    if following > today + timedelta(days=MAX_DAYS_AHEAD - DAYS_SHOWN):
        following = None
    page = request.route_path(ROUTES[kind][0], id=owner.id)
    return {
        "kind": kind,
        "owner": owner,
        "notice": notice,
        "remaining": _remaining(request, kind, owner, today),
        "days": [(_day_label(request, d), times) for d, times in sorted(days.items())],
        "period": (_day_label(request, first_day), _day_label(request, last_day)),
        "previous_url": previous and f"{page}?from={previous.isoformat()}",
        "next_url": following and f"{page}?from={following.isoformat()}",
    }


def _remaining(request, kind, owner, today):
    """How many free times the whole bookable range still has (the
    organisation's "show the number of remaining booking options"), or
    ``None`` when it does not want them counted."""
    if not request.organisation.options["show_remaining_booking"]:
        return None
    last_day = today + timedelta(days=MAX_DAYS_AHEAD - 1)
    return len(
        slots_between(
            request.dbsession, request.organisation, today, last_day, **_owner_args(kind, owner)
        )
    )


@view_config(route_name="book_practitioner", renderer="scheduling/book_slots.html")
@view_config(route_name="book_department", renderer="scheduling/book_slots.html")
def slot_listing(request):
    embeddable(request)
    kind, owner = _owner(request)
    return _slot_listing(request, kind, owner)


def _requested_slot(request, kind, owner):
    """The free slot named by ``start`` in the query or form, or None."""
    try:
        start = datetime.strptime(request.params.get("start", ""), START_FORMAT)
    except ValueError:
        return None
    now = utcnow()
    if not now < start < now + timedelta(days=MAX_DAYS_AHEAD + 1):
        return None  # also keeps year 9999 away from time-zone arithmetic
    day = to_local(start, request.organisation).date()
    slots = slots_between(
        request.dbsession, request.organisation, day, day, **_owner_args(kind, owner)
    )
    return next((s for s in slots if s.starts_at == start), None)


GONE = _("This time was just taken by someone else. Choose another.")


def _gone(request, kind, owner):
    """The slot list again, with the message, as 409 Conflict."""
    request.response.status = 409
    request.override_renderer = "scheduling/book_slots.html"
    return _slot_listing(request, kind, owner, notice=GONE)


# require_csrf=False: the widget's forms carry their own token (widgets.embed).
@view_config(
    route_name="book_practitioner_details", renderer="scheduling/book_form.html", require_csrf=False
)
@view_config(
    route_name="book_department_details", renderer="scheduling/book_form.html", require_csrf=False
)
def details(request):
    embeddable(request)
    kind, owner = _owner(request)
    if request.method == "POST":
        check_form_token(request, FORM)
    slot = _requested_slot(request, kind, owner)
    if slot is None:
        return _gone(request, kind, owner)
    form = BookingForm(request, language=request.locale_name)
    if request.method == "POST" and form.validate():
        try:
            appointment = _book(request, kind, owner, slot, form)
        except SlotTaken:
            return _gone(request, kind, owner)
        except AppointmentError as exc:
            form.add_error("terms", exc.args[0])
        else:
            return _booked(request, appointment)
    return {
        "form": form,
        "kind": kind,
        "owner": owner,
        "token_field": TOKEN_FIELD,
        "token": form_token(request, FORM),
        "start": slot.starts_at.strftime(START_FORMAT),
        "when": _when(request, slot.starts_at),
    }


def _book(request, kind, owner, slot, form):
    """A new client (never matched to an existing record: a visitor must not
    learn or change anyone else's data) and their appointment, both or
    neither: the savepoint drops the client when the slot was taken."""
    dbsession = request.dbsession
    with dbsession.begin_nested():
        client = Client(
            organisation_id=request.organisation.id,
            **{
                name: form[name].data
                for name in ("initials", "last_name", "date_of_birth", "email", "phone", "language")
            },
        )
        if kind == "practitioner":
            client.practitioners = [owner]
            client.departments = [owner.department] if owner.department else []
        else:
            client.departments = [owner]
        dbsession.add(client)
        return create_appointment(
            request,
            client=client,
            starts_at=slot.starts_at,
            duration_minutes=slot.minutes,
            origin=Origin.booking,
            **_owner_args(kind, owner),
        )


def _booked(request, appointment):
    request.override_renderer = "scheduling/book_done.html"
    return {
        "appointment": appointment,
        "when": _when(request, appointment.starts_at),
        "emailed": client_mail_enabled(request.organisation, appointment.client),
    }


def includeme(config):
    org = "organisation"
    config.add_route("book", "/book", site=org)
    for kind, (listing, details_page) in ROUTES.items():
        config.add_route(listing, f"/book/{kind}/{ID}", site=org)
        config.add_route(details_page, f"/book/{kind}/{ID}/details", site=org)
    config.scan(__name__)
