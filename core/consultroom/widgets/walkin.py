"""The walk-in widget's public pages: who can be seen now (the rules are
``consultroom.widgets.offer``'s), kept live over the page's socket (role
``walk_in``, ``consultroom.widgets.live``), and the intake form that takes a
visitor straight to that practitioner's waiting room."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.appointments.models import Kind, Origin
from consultroom.appointments.service import AppointmentError, create_appointment
from consultroom.clients.models import WALK_IN_NAME, Client
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.web import ID
from consultroom.widgets.embed import TOKEN_FIELD, check_form_token, embeddable, form_token
from consultroom.widgets.forms import intake_form_class
from consultroom.widgets.live import ROLE, offer_message
from consultroom.widgets.models import WalkInWidget
from consultroom.widgets.offer import WALK_IN_MINUTES, walk_in_offer

FORM = "walk-in"


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


def _offer(request, widget):
    return walk_in_offer(request.dbsession, request.organisation, widget)


def _listing(request, widget, offer, notice=None):
    """The list page's values: who is offered (``offer``), who is busy, and
    the socket that keeps them live."""
    request.response.cache_control = "no-store"  # the list is of this moment
    return _page(
        widget,
        available=offer.available,
        busy=offer.busy,
        notice=notice,
        realtime={
            "ws": "/ws",
            "hello": {"type": "hello", "role": ROLE, "widget": widget.public_id},
        },
    )


@view_config(route_name="walk_in", renderer="widgets/walk_in.html")
def walk_in(request):
    embeddable(request)
    widget = _widget(request)
    return _listing(request, widget, _offer(request, widget))


@view_config(route_name="walk_in_available", renderer="json")
def walk_in_available(request):
    """Who is offered and who is busy now, as the live socket sends it."""
    embeddable(request)
    widget = _widget(request)
    request.response.cache_control = "no-store"
    return offer_message(request, widget, _offer(request, widget))


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
    values.setdefault("last_name", WALK_IN_NAME)  # untranslated: shown in the reader's language
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
    offer = _offer(request, widget)
    practitioner = next((u for u in offer.available if u.id == int(request.matchdict["id"])), None)
    if practitioner is None:
        return _gone(request, widget, offer)
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
                    origin=Origin.walk_in,
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


def _gone(request, widget, offer):
    """The list again: this practitioner is no longer (or never was) available."""
    request.response.status = 409
    request.override_renderer = "widgets/walk_in.html"
    notice = _("This practitioner is no longer available. Choose someone else.")
    return _listing(request, widget, offer, notice)


def includeme(config):
    org = "organisation"
    public_id = "{public_id:[A-Za-z0-9_-]{1,20}}"
    config.add_route("walk_in", f"/walk-in/{public_id}", site=org)
    config.add_route("walk_in_available", f"/walk-in/{public_id}/available.json", site=org)
    config.add_route("walk_in_logo", f"/walk-in/{public_id}/logo.png", site=org)
    config.add_route("walk_in_background", f"/walk-in/{public_id}/background.png", site=org)
    config.add_route("walk_in_intake", f"/walk-in/{public_id}/{ID}", site=org)
    config.scan(__name__)
