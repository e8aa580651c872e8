"""The client's side: a questionnaire filled in from its own link
(``/q/<token>``: in the invitation, the portal, or the step before the
waiting room). Nobody logs in: the token is the credential, looked up under
the core's limit on guessed tokens. "Save for later" keeps what was
answered so far (status started); "Send" checks the required fields and
finishes it. Bad input on any field or upload: a message at the field,
what was typed shown again, nothing saved."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.appointments.admission import keep_private, waiting_room_url
from consultroom.appointments.models import Appointment
from consultroom.appointments.service import link_state
from consultroom.clients.contact import language_of
from consultroom.clients.models import Client
from consultroom.i18n import speak
from consultroom.ratelimit import find_by_token
from consultroom.waitingroom.live import entry_changed
from consultroom.web import flash
from consultroom.web.errors import not_found
from consultroom.web.images import ImageRejected, fit_image, read_upload
from consultroom_questionnaires import fieldtypes, service
from consultroom_questionnaires.i18n import _, page
from consultroom_questionnaires.models import Image, Response, Status

TEMPLATE = "consultroom_questionnaires:templates/fill.html"
MAX_TOKEN = 64
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_BOX = (1600, 1600)
# The header of the page script's background saves (static/autosave.js).
AUTOSAVE = "autosave"


def response_by_token(request, token):
    """The organisation's response whose link token is ``token``, or None
    (a miss counts towards the address's limit on invalid links)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return find_by_token(
        request,
        lambda: request.dbsession.scalar(
            select(Response).where(
                Response.organisation_id == request.organisation.id, Response.token == token
            )
        ),
    )


def _appointment(request, response):
    if response.appointment_id is None:
        return None
    return request.dbsession.get(Appointment, response.appointment_id)


def _images(request, response):
    return set(
        request.dbsession.scalars(select(Image.field_key).where(Image.response_id == response.id))
    )


def _shown_from_post(version, posted):
    """What the client typed, to show again with the messages."""
    shown = {}
    for field in version.fields:
        if field["type"] == "multiple_choice":
            shown[field["key"]] = [v for v in posted.getall(field["key"]) if isinstance(v, str)]
        elif fieldtypes.asks(field) and field["type"] != "image":
            value = posted.get(field["key"])
            shown[field["key"]] = value if isinstance(value, str) else None
    return shown


def _read(request, response, answers):
    """``(answers, uploads, problems)`` from the post: the new answers (the
    stored ones with the posted ones over them), the checked images to
    store, and {field key: translated message}."""
    language = request.locale_name
    new, uploads, problems = dict(answers), {}, {}
    for field in response.version.fields:
        if not fieldtypes.asks(field):
            continue
        key = field["key"]
        try:
            if field["type"] == "image":
                data = read_upload(request.POST.get(key), IMAGE_MAX_BYTES)
                if data is not None:
                    uploads[key] = fit_image(data, IMAGE_BOX)
            else:
                new[key] = fieldtypes.parse(field, request.POST, language)
        except (fieldtypes.Invalid, ImageRejected) as exc:
            problems[key] = request.localizer.translate(exc.args[0])
    return new, uploads, problems


def _missing(version, answers, uploads, images):
    """The required fields left empty."""
    return [
        field["key"]
        for field in version.fields
        if field.get("required")
        and fieldtypes.asks(field)
        and answers.get(field["key"]) in (None, "", [])
        and not (field["type"] == "image" and (field["key"] in uploads or field["key"] in images))
    ]


def _save(request, response, answers, uploads, finished):
    for key, png in uploads.items():
        answers[key] = service.store_image(request, response, key, png)
    service.store_answers(request, response, answers, finished)
    if finished and response.appointment_id is not None:
        # A waiting client sent it: the staff's lists show the new badge.
        entry_changed(request, response.appointment_id)


def _after_finishing(request, response):
    appointment = _appointment(request, response)
    if appointment is not None and link_state(appointment, request.organisation) == "open":
        return HTTPSeeOther(waiting_room_url(request, appointment))
    return HTTPSeeOther(request.route_path("questionnaires.fill", token=response.token))


def _autosaved(request, response, answers, uploads, problems):
    """The page's script saving as the client goes: JSON, no page."""
    if problems:
        request.response.status = 400
        return render_to_response(
            "json", {"problems": problems}, request, response=request.response
        )
    _save(request, response, answers, uploads, False)
    return render_to_response("json", {"saved": True}, request, response=request.response)


@view_config(route_name="questionnaires.fill", renderer=TEMPLATE)
def fill(request):
    response = response_by_token(request, request.matchdict["token"])
    if response is None:
        return not_found(request)
    client = request.dbsession.get(Client, response.client_id)
    speak(request, language_of(client, request.organisation))
    keep_private(request)
    if response.status is Status.new and response.version_id != response.questionnaire.latest.id:
        response.version_id = response.questionnaire.latest.id  # not started: the newest
        request.dbsession.flush()
        request.dbsession.refresh(response)
    answers = service.answers_of(request, response)
    images = _images(request, response)
    problems = {}
    shown = answers
    if request.method == "POST" and response.status is not Status.finished:
        finishing = request.POST.get("action") == "finish"
        new, uploads, problems = _read(request, response, answers)
        if finishing and not problems:
            for key in _missing(response.version, new, uploads, images):
                problems[key] = request.localizer.translate(_("Please answer this question."))
        if request.headers.get("X-Requested-With") == AUTOSAVE and not finishing:
            return _autosaved(request, response, new, uploads, problems)
        if not problems:
            _save(request, response, new, uploads, finishing)
            if finishing:
                flash(request, _("Thank you: your answers were sent."))
                return _after_finishing(request, response)
            flash(request, _("Saved. You can come back with the same link to go on."))
            return HTTPSeeOther(request.route_path("questionnaires.fill", token=response.token))
        request.response.status = 400
        shown = {**answers, **_shown_from_post(response.version, request.POST)}
    appointment = _appointment(request, response)
    return page(
        request,
        response=response,
        version=response.version,
        shown=shown,
        problems=problems,
        images=images,
        countries=fieldtypes.countries(request.locale_name),
        waiting_url=(
            waiting_room_url(request, appointment)
            if appointment is not None and link_state(appointment, request.organisation) == "open"
            else None
        ),
    )


def includeme(config):
    config.add_plugin_route("questionnaires.fill", "/q/{token:[A-Za-z0-9_-]{20,64}}")
    config.add_plugin_static_view("questionnaires-static", "consultroom_questionnaires:static")
    config.scan(".client")
