"""The questionnaires plugin's hook implementations: its menu entry; the
appointment form's questionnaire field; the admission step of a required
questionnaire; the invitation's ``*|questionnaire_link|*``; the lists on
the client's and appointment's pages and in the portal; the room's
"Questionnaire" tab; the default anamnesis questionnaire on enabling; and
forgetting answers with the client or their anonymised appointments."""

from markupsafe import Markup
from pyramid.renderers import render
from sqlalchemy import select

from consultroom.hookspecs import (
    AdmissionStep,
    MailPlaceholder,
    MenuItem,
    RoomTab,
    WaitingAnnotation,
    fills_slots,
    hookimpl,
)
from consultroom.web.sites import org_url
from consultroom_questionnaires import anamnesis, answers, service, widgets
from consultroom_questionnaires.formfield import QuestionnaireField
from consultroom_questionnaires.i18n import _, page
from consultroom_questionnaires.models import Response, Status

PLACEHOLDER = "questionnaire_link"


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("department.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("Questionnaires")),
            request.route_path("questionnaires.list"),
            section="communication",
            order=60,
        )
    ]


@hookimpl
def consultroom_plugin_enabled(organisation, settings, dbsession):
    anamnesis.ensure_default(organisation, dbsession)


@hookimpl
def consultroom_appointment_created(request, appointment):
    widgets.attach_for_widget(request, appointment)


@hookimpl
def consultroom_appointment_form_fields(request, appointment):
    return [QuestionnaireField()]


@hookimpl
def consultroom_admission_steps(request, appointment):
    return [
        AdmissionStep(
            id=f"questionnaires.{response.id}",
            label=response.version.title,
            url=request.route_path("questionnaires.fill", token=response.token),
            done=response.status is Status.finished,
            order=50,
        )
        for response in service.responses_of(request, appointment_id=appointment.id)
        if response.required
    ]


@hookimpl
def consultroom_mail_placeholders(request):
    return [
        MailPlaceholder(
            PLACEHOLDER,
            request.localizer.translate(_("The link to the questionnaire to fill in")),
            sample="https://example.org/q/…",
        )
    ]


@hookimpl
def consultroom_mail_placeholder_values(request, appointment, kind):
    if kind == "cancellation":
        return None
    links = [
        org_url(request, request.organisation, f"/q/{response.token}")
        for response in service.responses_of(request, appointment_id=appointment.id)
        if response.status is not Status.finished
    ]
    return {PLACEHOLDER: "\n".join(links)} if links else None


@hookimpl
def consultroom_client_erased(request, client):
    service.forget_client(request, client.id)


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    service.forget_appointments(request, appointment_ids)


def _listing(request, found, title):
    if not found:
        return None
    return render(
        "consultroom_questionnaires:templates/_responses.html",
        page(request, responses=found, title=title, labels=service.STATUS_LABELS),
        request,
    )


@hookimpl
@fills_slots(
    "client", "appointment", "client_portal", "waiting_room", "booking_widget", "walk_in_widget"
)
def consultroom_template_slot(request, slot, context):
    if slot == "client" and request.has_permission("staff"):
        found = service.responses_of(request, client_id=context["client"].id)
        return _listing(request, found, _("Questionnaires"))
    if slot == "appointment" and request.has_permission("staff"):
        found = service.responses_of(request, appointment_id=context["appointment"].id)
        return _listing(request, found, _("Questionnaires"))
    if slot == "client_portal":
        return _portal(request, context["client"])
    if slot == "waiting_room":
        return _while_waiting(request, context["appointment"])
    if slot == "booking_widget":
        return widgets.booking_slot(request, context)
    if slot == "walk_in_widget":
        return widgets.walk_in_slot(request, context)
    return None


def _todo_card(request, todo, title):
    """Links to the questionnaires in ``todo`` (responses), under ``title``."""
    if not todo:
        return None
    items = Markup("").join(
        Markup('<li><a href="{}">{}</a></li>').format(
            request.route_path("questionnaires.fill", token=r.token), r.version.title
        )
        for r in todo
    )
    return Markup(
        '<section class="card questionnaires-todo"><h2>{}</h2><ul>{}</ul></section>'
    ).format(request.localizer.translate(title), items)


def _portal(request, client):
    """The questionnaires the client still has to fill in."""
    todo = [
        r
        for r in service.responses_of(request, client_id=client.id)
        if r.status is not Status.finished
    ]
    return _todo_card(request, todo, _("Questionnaires to fill in"))


def _while_waiting(request, appointment):
    """An optional questionnaire of the appointment, to fill in while waiting
    (a required one was finished before the waiting room)."""
    todo = [
        r
        for r in service.responses_of(request, appointment_id=appointment.id)
        if r.status is not Status.finished
    ]
    return _todo_card(request, todo, _("While you wait, please fill in"))


@hookimpl
def consultroom_room_regions(request, role, room):
    """Staff read the answers of the room's appointment in a side-panel tab
    (each time it is shown: an audited view)."""
    if role != "staff" or room is None or room.appointment_id is None:
        return None
    html = answers.room_panel(request, room.appointment_id)
    if html is None:
        return None
    return [RoomTab("questionnaires", request.localizer.translate(_("Questionnaire")), html)]


@hookimpl
def consultroom_waiting_list_annotations(request, appointments):
    """Whether a waiting client sent their questionnaire (one query)."""
    if not appointments:
        return None
    found = request.dbsession.execute(
        select(Response.appointment_id, Response.status).where(
            Response.organisation_id == request.organisation.id,
            Response.appointment_id.in_([a.id for a in appointments]),
        )
    ).all()
    pending = {a for a, status in found if status is not Status.finished}
    t = request.localizer.translate
    return [
        WaitingAnnotation(appointment_id, t(_("Questionnaire not sent")), "warning")
        if appointment_id in pending
        else WaitingAnnotation(appointment_id, t(_("Questionnaire sent")), "ok")
        for appointment_id in dict.fromkeys(a for a, _status in found)
    ]
