"""The walk-in widget's public pages: who can be seen now, and the intake
form that takes a visitor straight to that practitioner's waiting room."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.appointments.models import Kind
from consultroom.appointments.service import AppointmentError, create_appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.scheduling.slots import block_days
from consultroom.tenancy.timezones import local_now
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.web import ID
from consultroom.widgets.embed import TOKEN_FIELD, check_form_token, embeddable, form_token
from consultroom.widgets.forms import intake_form_class
from consultroom.widgets.models import WalkInWidget

WALK_IN_MINUTES = 20
FORM = "walk-in"


def _covers(block, local):
    """Whether availability ``block`` includes the local moment ``local``."""
    day = local.date()
    applies_today = next(block_days(block, day, day), None) is not None
    return applies_today and block.start_time <= local.time() < block.end_time


def available_now(dbsession, organisation, widget, now=None):
    """The practitioners the walk-in widget lists at this moment: active staff
    of the widget's departments (all, when it names none) who switched
    "available for walk-ins" on in their room, or else have an availability
    block covering now (``now``: aware UTC, for tests).

    Keep every "who may a walk-in visitor see" rule here.
    """
    local = local_now(organisation, now)
    staff = select(User).where(
        User.organisation_id == organisation.id, User.active, User.role.in_(STAFF_ROLES)
    )
    if widget.departments:
        staff = staff.where(User.department_id.in_([d.id for d in widget.departments]))
    seen = {
        user.id: user
        for user in dbsession.scalars(
            staff.join(WalkInSwitch, WalkInSwitch.user_id == User.id).where(WalkInSwitch.available)
        )
    }
    rows = dbsession.execute(
        staff.join(AvailabilityBlock, AvailabilityBlock.practitioner_id == User.id)
        .where(AvailabilityBlock.organisation_id == organisation.id)
        .add_columns(AvailabilityBlock)
    ).all()
    for user, block in rows:
        if user.id not in seen and _covers(block, local):
            seen[user.id] = user
    return sorted(seen.values(), key=lambda u: u.name)


def _widget(request):
    widget = request.dbsession.scalar(
        select(WalkInWidget).where(
            WalkInWidget.organisation_id == request.organisation.id,
            WalkInWidget.public_id == request.matchdict["public_id"],
        )
    )
    if widget is None:
        raise HTTPNotFound()
    return widget


def _page(widget, **values):
    return {"widget": widget, **values}


@view_config(route_name="walk_in", renderer="widgets/walk_in.html")
def walk_in(request):
    embeddable(request)
    widget = _widget(request)
    return _page(widget, available=available_now(request.dbsession, request.organisation, widget))


@view_config(route_name="walk_in_available", renderer="json")
def walk_in_available(request):
    """Who is available now, for the widget page to refresh its list while
    it is open (practitioners switch walk-ins on and off in their room)."""
    embeddable(request)
    widget = _widget(request)
    request.response.cache_control = "no-store"
    return {
        "available": [
            {
                "id": user.id,
                "name": user.name,
                "url": request.route_path("walk_in_intake", public_id=widget.public_id, id=user.id),
            }
            for user in available_now(request.dbsession, request.organisation, widget)
        ]
    }


def _image(request, name):
    embeddable(request)
    data = getattr(_widget(request), name)
    if not data:
        raise HTTPNotFound()
    return Response(body=data, content_type="image/png", cache_control="public, max-age=300")


@view_config(route_name="walk_in_logo")
def walk_in_logo(request):
    return _image(request, "logo")


@view_config(route_name="walk_in_background")
def walk_in_background(request):
    return _image(request, "background")


def _new_client(request, widget, form, practitioner):
    """A new client from the intake (never matched to an existing record)."""
    values = {name: form[name].data for name in widget.intake_fields if name in form}
    values.setdefault("last_name", request.localizer.translate(_("Walk-in visitor")))
    return Client(
        organisation_id=request.organisation.id,
        language=request.locale_name,
        practitioners=[practitioner],
        departments=[practitioner.department] if practitioner.department else [],
        **values,
    )


# require_csrf=False: the widget's forms carry their own token (widgets.embed).
@view_config(
    route_name="walk_in_intake", renderer="widgets/walk_in_intake.html", require_csrf=False
)
def intake(request):
    embeddable(request)
    widget = _widget(request)
    if request.method == "POST":
        check_form_token(request, FORM)
    available = available_now(request.dbsession, request.organisation, widget)
    practitioner = next((u for u in available if u.id == int(request.matchdict["id"])), None)
    if practitioner is None:
        return _gone(request, widget, available)
    form = intake_form_class(widget)(request)
    if request.method == "POST" and form.validate():
        dbsession = request.dbsession
        try:
            with dbsession.begin_nested():
                client = _new_client(request, widget, form, practitioner)
                dbsession.add(client)
                appointment = create_appointment(
                    request,
                    client=client,
                    practitioner=practitioner,
                    starts_at=utcnow(),
                    duration_minutes=WALK_IN_MINUTES,
                    kind=Kind.walk_in,
                    notify=False,
                )
        except AppointmentError as exc:
            form.add_error("terms", exc.args[0])
        else:
            return HTTPSeeOther(f"/c/{appointment.token}")
    return _page(
        widget,
        form=form,
        practitioner=practitioner,
        token_field=TOKEN_FIELD,
        token=form_token(request, FORM),
    )


def _gone(request, widget, available):
    """The list again: this practitioner is no longer (or never was) available."""
    request.response.status = 409
    request.override_renderer = "widgets/walk_in.html"
    return _page(
        widget,
        available=available,
        notice=_("This practitioner is no longer available. Choose someone else."),
    )


def includeme(config):
    org = "organisation"
    public_id = "{public_id:[A-Za-z0-9_-]{1,20}}"
    config.add_route("walk_in", f"/walk-in/{public_id}", site=org)
    config.add_route("walk_in_available", f"/walk-in/{public_id}/available.json", site=org)
    config.add_route("walk_in_logo", f"/walk-in/{public_id}/logo.png", site=org)
    config.add_route("walk_in_background", f"/walk-in/{public_id}/background.png", site=org)
    config.add_route("walk_in_intake", f"/walk-in/{public_id}/{ID}", site=org)
    config.scan(__name__)
