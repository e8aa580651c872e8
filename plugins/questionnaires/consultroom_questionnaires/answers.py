"""Staff read a client's answers: on their own page (from the client's and
the appointment's pages), in the room's side panel, as an image, and later
as PDF and text. Only staff who may see the client (the core's segregation
of clients) find a response; every read is written to the audit trail."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render
from pyramid.response import Response as WebResponse
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import undefer

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment
from consultroom.clients.access import client_or_404, visible_clients
from consultroom.clients.models import Client
from consultroom_questionnaires import crypto, export, fieldtypes, service, viewlog
from consultroom_questionnaires.i18n import page, translator
from consultroom_questionnaires.models import Image, Response, Status

TEMPLATES = "consultroom_questionnaires:templates/"


def response_or_404(request, response_id=None):
    """A response of a client the staff member may see, else 404."""
    response_id = int(response_id or request.matchdict["id"])
    response = request.dbsession.scalar(
        select(Response).where(
            Response.organisation_id == request.organisation.id, Response.id == response_id
        )
    )
    if response is None:
        raise HTTPNotFound()
    client_or_404(request, response.client_id)
    return response


def rows(request, response):
    """``[(field, text or None)]`` of the response as answered, in the
    reader's language; raises crypto.Undecryptable."""
    answers = service.answers_of(request, response)
    t = translator(request.localizer)
    return [
        (field, fieldtypes.readable(field, answers.get(field["key"]), t, request.locale_name))
        for field in response.version.fields
    ]


def _images(request, response):
    return dict(
        request.dbsession.execute(
            select(Image.field_key, Image.id).where(Image.response_id == response.id)
        ).all()
    )


def _values(request, response, where):
    try:
        answered = rows(request, response)
    except crypto.Undecryptable:
        answered = None
    if response.status is not Status.new:
        viewlog.viewed(request, response, where)
    return {
        "response": response,
        "client": request.dbsession.get(Client, response.client_id),
        "rows": answered,
        "images": _images(request, response),
        "labels": service.STATUS_LABELS,
    }


@view_config(
    route_name="questionnaires.answers", renderer=TEMPLATES + "answers.html", permission="staff"
)
def answers_page(request):
    response = response_or_404(request)
    return page(request, **_values(request, response, "page"))


@view_config(route_name="questionnaires.image", permission="staff")
def image(request):
    response = response_or_404(request)
    found = request.dbsession.scalar(
        select(Image).where(
            Image.response_id == response.id, Image.id == int(request.matchdict["image"])
        )
    )
    if found is None:
        raise HTTPNotFound()
    try:
        data = service.image_bytes(request, found)
    except crypto.Undecryptable:
        raise HTTPNotFound() from None
    viewlog.viewed(request, response, "image")
    return _file(data, "image/png", "inline")


def _file(body, content_type, disposition):
    """A download kept out of caches (``headers=`` would drop the type)."""
    response = WebResponse(body=body, content_type=content_type, cache_control="no-store, private")
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _download(request, kind):
    response = response_or_404(request)
    try:
        answered = rows(request, response)
    except crypto.Undecryptable:
        raise HTTPNotFound() from None
    client = request.dbsession.get(Client, response.client_id)
    t = translator(request.localizer)
    parts = export.lines(t, response, client, answered, service.STATUS_LABELS[response.status])
    viewlog.viewed(request, response, kind)
    name = f"questionnaire-{response.id}.{'pdf' if kind == 'pdf' else 'txt'}"
    if kind == "pdf":
        labels = {f["key"]: f["label"] for f in response.version.fields}
        stored = request.dbsession.scalars(
            select(Image).where(Image.response_id == response.id).options(undefer(Image.data))
        )
        images = {
            labels[image.field_key]: service.image_bytes(request, image)
            for image in stored
            if image.field_key in labels
        }
        body = export.as_pdf(parts, images, request.organisation.name)
        content_type = "application/pdf"
    else:
        body = export.as_text(parts).encode()
        content_type = "text/plain; charset=utf-8"
    return _file(body, content_type, f'attachment; filename="{name}"')


@view_config(route_name="questionnaires.pdf", permission="staff")
def answers_pdf(request):
    return _download(request, "pdf")


@view_config(route_name="questionnaires.text", permission="staff")
def answers_text(request):
    return _download(request, "text")


def room_panel(request, appointment_id):
    """The room tab's HTML: the answers of the appointment's questionnaires
    that the staff member may see; None when there are none."""
    appointment = request.dbsession.scalar(
        visible_appointments(request).where(Appointment.id == appointment_id)
    )
    if appointment is None or appointment.client_id is None:
        return None
    visible = request.dbsession.scalar(
        visible_clients(request).where(Client.id == appointment.client_id)
    )
    if visible is None:
        return None
    found = service.responses_of(request, appointment_id=appointment_id)
    if not found:
        return None
    parts = [_values(request, response, "room") for response in found]
    return render(TEMPLATES + "room_tab.html", page(request, parts=parts), request)


def includeme(config):
    config.add_plugin_route("questionnaires.answers", r"/questionnaires/answers/{id:\d{1,9}}")
    config.add_plugin_route(
        "questionnaires.image", r"/questionnaires/answers/{id:\d{1,9}}/images/{image:\d{1,9}}"
    )
    config.add_plugin_route("questionnaires.pdf", r"/questionnaires/answers/{id:\d{1,9}}.pdf")
    config.add_plugin_route("questionnaires.text", r"/questionnaires/answers/{id:\d{1,9}}.txt")
    config.scan(".answers")
