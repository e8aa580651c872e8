"""The client's link, /c/<token>: the door to the waiting room, open from a
while before the appointment to a while after it (organisation settings),
shown in the client's language and the organisation's time zone. While the
client has admission steps to finish (consultroom.appointments.admission),
it shows those instead."""

from datetime import timedelta

from pyramid.renderers import render_to_response
from pyramid.view import view_config

from consultroom.appointments import admission
from consultroom.appointments.display import format_local
from consultroom.appointments.service import link_state, link_window
from consultroom.clients.contact import language_of
from consultroom.db import utcnow
from consultroom.i18n import speak
from consultroom.realtime.pages import page_config
from consultroom.web.errors import not_found

# A client arriving up to this long after the start still counts as on time.
ON_TIME = timedelta(minutes=5)


def arrival(appointment, now):
    """ "early", "on_time" or "late", for the waiting list's colours."""
    if now < appointment.starts_at:
        return "early"
    return "on_time" if now <= appointment.starts_at + ON_TIME else "late"


def closed_page(request, appointment, state):
    """What a link (the client's or a participant's) shows outside its
    window: cancelled, passed, or from when it opens."""
    org = request.organisation
    opens, _closes = link_window(appointment, org)
    date, time = format_local(appointment.starts_at, org, request.locale_name)
    opens_on, opens_at = format_local(opens, org, request.locale_name)
    return render_to_response(
        "appointments/link_closed.html",
        {
            "state": state,
            "date": date,
            "time": time,
            "opens_at": opens_at,
            # Only named when the link opens the day before (a start just after midnight).
            "opens_on": opens_on if opens_on != date else None,
        },
        request=request,
        response=request.response,
    )


@view_config(route_name="client_link")
def client_link(request):
    org = request.organisation
    appointment = admission.appointment_by_token(request, request.matchdict["token"])
    if appointment is None:
        return not_found(request)
    language = language_of(appointment.client, org)
    speak(request, language)
    admission.keep_private(request)
    now = utcnow()
    state = link_state(appointment, org, now)
    if state != "open":
        return closed_page(request, appointment, state)
    steps = admission.steps(request, appointment)
    if any(not step.done for step in steps):
        return render_to_response(
            "appointments/admission_steps.html",
            {"steps": steps, "next": next(step for step in steps if not step.done)},
            request=request,
            response=request.response,
        )
    hello = {"type": "hello", "role": "client", "token": appointment.token}
    return render_to_response(
        "waitingroom/waiting.html",
        {
            "appointment": appointment,
            "organisation": org,
            "state": arrival(appointment, now),
            "realtime": page_config(request, hello),
        },
        request=request,
        response=request.response,
    )


def includeme(config):
    config.add_route("client_link", "/c/{token}", site="organisation")
    config.scan(__name__)
