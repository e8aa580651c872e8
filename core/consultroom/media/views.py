"""The network and hardware test: a page with a camera and microphone
preview and an echo test, for staff (from their profile menu) and for a
client through their appointment link; and the route its script posts the
WebRTC offer to, which the application forwards to the media server."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.appointments.service import link_state
from consultroom.clients.contact import language_of
from consultroom.i18n import _, speak
from consultroom.media.config import media_settings
from consultroom.media.forward import MediaError, forward_offer
from consultroom.ratelimit import Attempt, Limit, limits_from_settings
from consultroom.room import problems
from consultroom.web.inputs import parse_json

MAX_OFFER_BYTES = 64 * 1024

MESSAGES = {
    "bad_offer": (
        400,
        _("Your browser's test request was not understood. Reload the page and try again."),
    ),
    "rate_limited": (
        429,
        _("You ran the test many times in a short while. Try again in ${minutes} minutes."),
    ),
    "busy": (503, _("The test server is busy. Please try again in a minute.")),
    "unavailable": (
        503,
        _(
            "The test server cannot be reached right now. Your camera and"
            " microphone work if you see and hear yourself above."
        ),
    ),
}


def _error(request, code, **mapping):
    status, message = MESSAGES[code]
    request.response.status = status
    return {"error": code, "message": request.localizer.translate(_(message, mapping=mapping))}


def _offer(request):
    """The offer in the request's JSON body, or None."""
    if (request.content_length or 0) > MAX_OFFER_BYTES:
        return None
    try:
        body = parse_json(request.body)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("type") == "offer" and isinstance(body.get("sdp"), str):
        return {"sdp": body["sdp"], "type": "offer"}
    return None


def answer_offer(request, who):
    """Forward the posted offer for ``who`` (the rate-limit key) and return
    the JSON answer, or a JSON error with a translated message."""
    media = media_settings(request.registry.settings)
    if not media.enabled:
        return _error(request, "unavailable")
    offer = _offer(request)
    if offer is None:
        return _error(request, "bad_offer")
    limit = limits_from_settings(request.registry.settings, "network_test", 20, 15)
    # Every test counts (it costs the media server an encoder for a minute).
    attempt = Attempt(request, (limit, who))
    if attempt.locked:
        return _error(request, "rate_limited", minutes=Limit.minutes(attempt.locked))
    try:
        return forward_offer(media, offer)
    except MediaError as exc:
        return _error(request, exc.code)


def report_problem(request, who, role, appointment_id=None, user_id=None):
    """The browser's network test could not connect: counted for the usage
    report, under the same limit per tester as the tests themselves."""
    limit = limits_from_settings(request.registry.settings, "network_test", 20, 15)
    attempt = Attempt(request, (limit, who))
    if attempt.locked:
        return _error(request, "rate_limited", minutes=Limit.minutes(attempt.locked))
    problems.record(
        request.dbsession,
        request.organisation.id,
        problems.NETWORK_TEST,
        role,
        appointment_id=appointment_id,
        user_id=user_id,
    )
    return {"recorded": True}


def page(request, offer_url, back_url, problem_url):
    return {
        "offer_url": offer_url,
        "problem_url": problem_url,
        "back_url": back_url,
        "echo_enabled": media_settings(request.registry.settings).enabled,
    }


@view_config(
    route_name="network_test",
    renderer="media/network_test.html",
    permission="staff",
    request_method="GET",
)
def staff_page(request):
    return page(
        request,
        request.route_path("network_test_offer"),
        request.route_path("home"),
        request.route_path("network_test_problem"),
    )


@view_config(
    route_name="network_test_offer", renderer="json", permission="staff", request_method="POST"
)
def staff_offer(request):
    return answer_offer(request, f"user:{request.identity.id}")


def client_appointment(request):
    """The appointment of the token in the address, while the client may
    still use it (not cancelled, not over); the page speaks their language."""
    org = request.organisation
    appointment = request.dbsession.scalar(
        select(Appointment).where(
            Appointment.organisation_id == org.id, Appointment.token == request.matchdict["token"]
        )
    )
    if appointment is None or link_state(appointment, org) in ("cancelled", "passed"):
        raise HTTPNotFound()
    speak(request, language_of(appointment.client, org))
    # The token is in the address: keep it out of caches and Referer headers.
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    return appointment


@view_config(
    route_name="client_network_test", renderer="media/network_test.html", request_method="GET"
)
def client_page(request):
    appointment = client_appointment(request)
    token = appointment.token
    return page(
        request,
        request.route_path("client_network_test_offer", token=token),
        request.route_path("client_link", token=token),
        request.route_path("client_network_test_problem", token=token),
    )


@view_config(route_name="client_network_test_offer", renderer="json", request_method="POST")
def client_offer(request):
    return answer_offer(request, f"appointment:{client_appointment(request).id}")


@view_config(
    route_name="network_test_problem", renderer="json", permission="staff", request_method="POST"
)
def staff_problem(request):
    user = request.identity
    return report_problem(request, f"user:{user.id}", "staff", user_id=user.id)


@view_config(route_name="client_network_test_problem", renderer="json", request_method="POST")
def client_problem(request):
    appointment = client_appointment(request)
    return report_problem(
        request, f"appointment:{appointment.id}", "client", appointment_id=appointment.id
    )


def includeme(config):
    org = "organisation"
    config.add_route("network_test", "/network-test", site=org)
    config.add_route("network_test_offer", "/network-test/offer", site=org)
    config.add_route("client_network_test", "/c/{token}/network-test", site=org)
    config.add_route("client_network_test_offer", "/c/{token}/network-test/offer", site=org)
    config.add_route("network_test_problem", "/network-test/problem", site=org)
    config.add_route("client_network_test_problem", "/c/{token}/network-test/problem", site=org)
    config.scan(__name__)
