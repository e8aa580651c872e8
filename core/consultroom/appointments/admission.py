"""Admission steps: what a client must finish before the waiting room (a
consent form, a questionnaire, a payment), as plugins declare them through
``consultroom_admission_steps``.

The core asks at each door of the waiting room, on the server: the client's
link (``/c/<token>``, also where a walk-in lands) shows the steps instead of
the waiting room, the client's websocket hello is refused
(consultroom.room.sockets), and staff's call-in and force start are refused
(consultroom.room.service). A step's own page starts with
``step_appointment`` and sends the client back with ``waiting_room_url``.
"""

from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.appointments.service import link_state
from consultroom.clients.contact import language_of
from consultroom.i18n import _, speak
from consultroom.ratelimit import find_by_token
from consultroom.realtime.hooks import current_hooks

# An appointment's token is 43 characters; a longer one is no token of ours.
MAX_TOKEN = 64
# The websocket's error code, and the close reason, for a client with steps to do.
UNFINISHED = "steps_unfinished"


def steps(request, appointment):
    """Every step of ``appointment`` (done or not), in order."""
    found = [
        step
        for result in current_hooks(request).consultroom_admission_steps(
            request=request, appointment=appointment
        )
        for step in (result or [])
    ]
    return sorted(found, key=lambda step: (step.order, step.id))


def unfinished(request, appointment):
    """The steps the client of ``appointment`` has not finished yet."""
    return [step for step in steps(request, appointment) if not step.done]


def _labels(pending):
    return ", ".join(step.label for step in pending)


def client_refusal(pending):
    """Why the client's websocket may not enter the waiting room yet."""
    return _(
        "Finish these steps before the waiting room: ${steps}.",
        mapping={"steps": _labels(pending)},
    )


def staff_refusal(appointment, pending):
    """Why staff may not call this client in (or force-start) yet."""
    return _(
        "${name} has not finished ${steps} yet: they cannot be called in until then.",
        mapping={
            "name": appointment.client.display_name if appointment.client else "",
            "steps": _labels(pending),
        },
    )


def waiting_room_url(request, appointment):
    """The address of the appointment's waiting room (its client's link):
    where a step's page sends the client once the step is done."""
    return request.route_url("client_link", token=appointment.token)


def appointment_by_token(request, token):
    """The request organisation's appointment whose link token is
    ``token``, or None; a miss counts towards the address's limit on
    invalid links (answer it with a response, not an exception)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    return find_by_token(
        request,
        lambda: request.dbsession.scalar(
            select(Appointment).where(
                Appointment.organisation_id == request.organisation.id,
                Appointment.token == token,
            )
        ),
    )


def keep_private(request):
    """The token is in the address: keep the page out of caches and out of
    Referer headers."""
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"


def step_appointment(request, token):
    """What a step's page starts with: the appointment whose link token is
    ``token``, when it belongs to the request's organisation and its link
    opens the waiting room now; else None (answer with a 404 page,
    ``consultroom.web.errors.not_found(request)``). The page is then in the
    client's language and kept out of caches and Referer headers, like the
    waiting room."""
    appointment = appointment_by_token(request, token)
    if appointment is None or link_state(appointment, request.organisation) != "open":
        return None
    speak(request, language_of(appointment.client, request.organisation))
    keep_private(request)
    return appointment
