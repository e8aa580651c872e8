"""The appointment form's field: which questionnaire the client fills in
for this appointment, and whether it is required before the waiting room
(as the questionnaire says, or chosen here). Changing it replaces a
questionnaire the client has not started; one they started or finished
stays with its answers."""

from markupsafe import Markup
from sqlalchemy import delete

from consultroom.appointments.access import visible_departments
from consultroom.appointments.fields import FieldInvalid
from consultroom_questionnaires import service
from consultroom_questionnaires.i18n import _
from consultroom_questionnaires.models import Response, Status

NAME = "questionnaires_questionnaire"
REQUIRED = "questionnaires_required"
REQUIRED_CHOICES = {
    "default": _("As the questionnaire says"),
    "required": _("Required before the waiting room"),
    "optional": _("Optional"),
}


def _attached(request, appointment):
    return service.responses_of(request, appointment_id=appointment.id) if appointment else []


def _choices(request, appointment, attached):
    """The questionnaires staff may give this appointment's client, and the
    ones it has (``attached``: its responses; even if deleted since: saving
    the form keeps it)."""
    departments = {d.id for d in visible_departments(request)}
    if appointment is not None and appointment.department_id is not None:
        departments.add(appointment.department_id)
    found = service.usable_questionnaires(request, departments)
    for response in attached:
        if response.questionnaire not in found:
            found.append(response.questionnaire)
    return found


def _option(value, label, chosen):
    return Markup('<option value="{}"{}>{}</option>').format(
        value, Markup(" selected") if value == chosen else "", label
    )


class QuestionnaireField:
    name = NAME

    def render(self, request, appointment, posted, error):
        t = request.localizer.translate
        attached = _attached(request, appointment)
        if posted is not None:
            chosen, required = posted.get(NAME, ""), posted.get(REQUIRED, "default")
        else:
            chosen = str(attached[-1].questionnaire_id) if attached else ""
            required = "default"
        options = Markup("").join(
            [_option("", t(_("None")), chosen)]
            + [
                _option(str(q.id), q.title, chosen)
                for q in _choices(request, appointment, attached)
            ]
        )
        described = Markup(' aria-describedby="{}-error"').format(NAME) if error else ""
        status = Markup("").join(
            Markup("<li>{}: {}</li>").format(r.version.title, t(service.STATUS_LABELS[r.status]))
            for r in attached
        )
        return Markup(
            '<label for="{name}">{label}</label><select id="{name}" name="{name}"{d}>{options}'
            '</select><label for="{req}">{req_label}</label><select id="{req}" name="{req}">'
            "{req_options}</select>{status}"
        ).format(
            name=NAME,
            label=t(_("Questionnaire")),
            d=described,
            options=options,
            req=REQUIRED,
            req_label=t(_("Before the waiting room")),
            req_options=Markup("").join(
                _option(key, t(label), required) for key, label in REQUIRED_CHOICES.items()
            ),
            status=Markup('<ul class="questionnaires-attached">{}</ul>').format(status)
            if attached
            else "",
        )

    def validate(self, request, appointment, posted):
        chosen, required = posted.get(NAME, ""), posted.get(REQUIRED, "default")
        if required not in REQUIRED_CHOICES:
            raise FieldInvalid(_("Choose whether the questionnaire is required."))
        if chosen == "":
            return None
        found = {
            str(q.id): q for q in _choices(request, appointment, _attached(request, appointment))
        }
        if chosen not in found:
            raise FieldInvalid(_("Choose one of the questionnaires."))
        flag = None if required == "default" else required == "required"
        return found[chosen], flag

    def save(self, request, appointment, value):
        attached = service.responses_of(request, appointment_id=appointment.id)
        if value is not None:
            questionnaire, required = value
            same = [r for r in attached if r.questionnaire_id == questionnaire.id]
            if same:
                same[-1].required = questionnaire.required if required is None else required
                return
        untouched = [r.id for r in attached if r.status is Status.new]
        if untouched:
            request.dbsession.execute(delete(Response).where(Response.id.in_(untouched)))
        if value is not None and appointment.client_id is not None:
            service.attach(request, questionnaire, appointment.client_id, appointment.id, required)
