"""Questionnaires given by the booking and walk-in widgets: a visitor who
books (or walks in) with a practitioner or department gets every
questionnaire marked for that widget, of the organisation or of that
department, attached to the new appointment; the widget's pages say so,
and the booking's last page links to it, to fill in at once. A required
one is then the step before the waiting room, as for any appointment."""

from markupsafe import Markup

from consultroom.accounts.models import User
from consultroom.appointments.models import Kind
from consultroom.tenancy.models import Department
from consultroom_questionnaires import service
from consultroom_questionnaires.i18n import _

BOOKING_ROUTES = ("book_practitioner_details", "book_department_details")


def _departments(owner):
    """The departments whose questionnaires a visitor of ``owner`` (a
    practitioner, a department, or the appointment made) gets."""
    if isinstance(owner, Department):
        return {owner.id}
    if isinstance(owner, User):
        return {owner.department_id} - {None}
    practitioner = owner.practitioner
    return {owner.department_id, practitioner.department_id if practitioner else None} - {None}


def given_by(request, widget, departments):
    flag = "for_booking" if widget == "booking" else "for_walk_in"
    return [q for q in service.usable_questionnaires(request, departments) if getattr(q, flag)]


def _widget_of(request, appointment):
    if appointment.kind is Kind.walk_in:
        return "walk_in"
    route = request.matched_route.name if request.matched_route is not None else None
    return "booking" if route in BOOKING_ROUTES else None


def attach_for_widget(request, appointment):
    """Called when an appointment is made: attach the widget's questionnaires."""
    widget = _widget_of(request, appointment)
    if widget is None or appointment.client_id is None:
        return
    for questionnaire in given_by(request, widget, _departments(appointment)):
        service.attach(request, questionnaire, appointment.client_id, appointment.id)


def _notice(request, titles):
    if not titles:
        return None
    return Markup('<p class="questionnaires-notice">{}</p>').format(
        request.localizer.translate(
            _(
                "After this you fill in: ${titles}.",
                mapping={"titles": ", ".join(titles)},
            )
        )
    )


def booking_slot(request, context):
    if context.get("page") == "details":
        found = given_by(request, "booking", _departments(context["owner"]))
        return _notice(request, [q.title for q in found])
    if context.get("page") == "done":
        todo = service.responses_of(request, appointment_id=context["appointment"].id)
        if not todo:
            return None
        links = Markup("").join(
            Markup('<li><a class="button primary" href="{}" target="_top">{}</a></li>').format(
                request.route_path("questionnaires.fill", token=r.token),
                request.localizer.translate(
                    _("Fill in now: ${title}", mapping={"title": r.version.title})
                ),
            )
            for r in todo
        )
        return Markup('<ul class="questionnaires-fill-now">{}</ul>').format(links)
    return None


def walk_in_slot(request, context):
    if context.get("page") != "intake":
        return None
    found = given_by(request, "walk_in", _departments(context["practitioner"]))
    return _notice(request, [q.title for q in found])
