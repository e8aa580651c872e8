"""Staff pages for appointments: list with filters, today's overview, new,
edit, cancel and the detail page with the client's link (the quick
consultation starts in the room: ``consultroom.room.quick``).

Every appointment a page shows or changes comes through ``access`` (the
segregation settings); every change goes through ``service``."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import Role, User
from consultroom.appointments import fields, newclient
from consultroom.appointments.access import (
    appointment_or_404,
    bookable_departments,
    bookable_practitioners,
    visible_appointments,
    visible_departments,
)
from consultroom.appointments.display import consult_link, owner, with_name
from consultroom.appointments.forms import AppointmentForm, FilterForm, with_none
from consultroom.appointments.models import Appointment, Origin, Status
from consultroom.appointments.service import (
    AppointmentError,
    SlotTaken,
    cancel_appointment,
    create_appointment,
    link_window,
    update_appointment,
)
from consultroom.audit import record
from consultroom.clients.contact import client_mail_enabled
from consultroom.clients.models import Group
from consultroom.clients.picker import visible_client
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.tenancy.timezones import exists_locally, local_now, to_local, to_utc
from consultroom.web import ID, flash
from consultroom.web.listing import page_number, paginate

_LOADED = (
    selectinload(Appointment.client),
    selectinload(Appointment.practitioner),
    selectinload(Appointment.department),
)


def _id(request):
    return int(request.matchdict["id"])


# ---- what the forms offer


@dataclass
class Choices:
    """The objects a staff member may pick in the forms' lists, by id (the
    client and individual participants are typed: ``clients.picker``)."""

    practitioners: dict
    departments: dict
    groups: dict


def _by_id(rows):
    return {row.id: row for row in rows}


def _of_organisation(request, model, *order, options=()):
    """Groups belong to the whole organisation."""
    return request.dbsession.scalars(
        select(model)
        .where(model.organisation_id == request.organisation.id)
        .options(*options)
        .order_by(*order, model.id)
    ).all()


def _choices(request, appointment=None):
    choices = Choices(
        practitioners=_by_id(bookable_practitioners(request)),
        departments=_by_id(bookable_departments(request)),
        groups=_by_id(
            _of_organisation(request, Group, Group.name, options=[selectinload(Group.participants)])
        ),
    )
    if appointment is not None:
        # What the appointment already has stays possible (a practitioner
        # deactivated since, a client assigned to someone else since).
        for kind, thing in (
            ("practitioners", appointment.practitioner),
            ("departments", appointment.department),
        ):
            if thing is not None:
                getattr(choices, kind).setdefault(thing.id, thing)
    return choices


def _offer(form, choices):
    """Fill the form's selects; drop the department when there are none to choose."""
    form.group_ids.choices = [(g.id, g.name) for g in choices.groups.values()]
    form.practitioner_id.choices = with_none(
        "—", ((u.id, u.name) for u in choices.practitioners.values())
    )
    if choices.departments:
        form.department_id.choices = with_none(
            "—", ((d.id, d.name) for d in choices.departments.values())
        )
    else:
        del form.department_id


def _preselected_client(request):
    """``?client=<id>`` from a client's "book appointment" link, if visible."""
    return visible_client(request, request.GET.get("client"))


def _initial(request, appointment, choices):
    if appointment is None:
        me = request.identity
        # Only a practitioner books for themselves by default: an
        # administrator books for someone else, and must choose whom.
        mine = me.role is Role.practitioner and me.id in choices.practitioners
        return {
            "client_id": _preselected_client(request),
            "practitioner_id": me.id if mine else None,
            "date": local_now(request.organisation).date(),
        }
    starts = to_local(appointment.starts_at, request.organisation)
    return {
        "client_id": appointment.client,
        "practitioner_id": appointment.practitioner_id,
        "department_id": appointment.department_id,
        "date": starts.date(),
        "start_time": starts.time(),
        "duration_minutes": appointment.duration_minutes,
        "message": appointment.message,
        "participant_ids": list(appointment.participants),
    }


# ---- new and edit


def _start(request, form, appointment):
    """The start in naive UTC from the local date and time; None (with the
    problem on the form) for a time the clocks skip, or one already past."""
    org = request.organisation
    wall = datetime.combine(form.date.data, form.start_time.data.replace(second=0, microsecond=0))
    if not exists_locally(wall, org):
        form.add_error(
            "start_time",
            _(
                "${time} does not exist on this day: the clocks are put forward then."
                " Choose another time.",
                mapping={"time": wall.strftime("%H:%M")},
            ),
        )
        return None
    starts_at = to_utc(wall, org)
    unchanged = appointment is not None and starts_at == appointment.starts_at
    if not unchanged and starts_at < utcnow().replace(second=0, microsecond=0):
        form.add_error("start_time", _("This time has passed. Choose a time from now on."))
        return None
    return starts_at


def _with_whom(form, choices):
    """``(practitioner, department)``: exactly one of them; None on a problem."""
    practitioner = choices.practitioners.get(form.practitioner_id.data)
    department = (
        choices.departments.get(form.department_id.data) if "department_id" in form else None
    )
    if practitioner is not None and department is not None:
        form.add_error("department_id", _("Choose a practitioner or a department, not both."))
        return None
    if practitioner is None and department is None:
        form.add_error(
            "practitioner_id",
            _("Choose a practitioner or a department.")
            if "department_id" in form
            else _("Choose a practitioner."),
        )
        return None
    return practitioner, department


def _appointment_values(request, form, choices, appointment):
    """The service's keyword arguments from a posted form, or None."""
    if not form.validate():
        return None
    whom = _with_whom(form, choices)
    starts_at = _start(request, form, appointment)
    if whom is None or starts_at is None:
        return None
    return {
        "client": form.client_id.data,
        "practitioner": whom[0],
        "department": whom[1],
        "starts_at": starts_at,
        "duration_minutes": form.duration_minutes.data,
        "message": form.message.data,
        "participants": form.participants(choices.groups),
    }


def _saved(request, appointment, created):
    if created:
        flash(request, _("The appointment is saved."), "success")
    else:
        flash(request, _("The appointment is changed."), "success")
    return HTTPSeeOther(request.route_path("appointment", id=appointment.id))


def _inline_client_ok(form, inline):
    """Whether the inline new client's fields are valid (when ticked), and
    not combined with a chosen client (the problems on the forms)."""
    if inline is None or not form.new_client.data:
        return True
    ok = inline.validate()
    if form.client_id.data is not None:
        form.add_error("client_id", _("Choose an existing client or fill in a new one, not both."))
        ok = False
    return ok


def _create(request, form, inline, values, extra):
    """The new appointment, with its new client when asked for (both stored,
    or neither); None when the new client is refused (problems on the forms)."""
    if inline is None or not form.new_client.data:
        return create_appointment(request, extra=extra, origin=Origin.staff, **values)
    departments, practitioners = newclient.placement(
        request, values["practitioner"], values["department"]
    )
    if newclient.refused(request, inline, form, departments):
        return None
    with request.dbsession.begin_nested():
        client = newclient.add_client(request, inline, departments, practitioners)
        appointment = create_appointment(
            request, extra=extra, origin=Origin.staff, **{**values, "client": client}
        )
    newclient.recorded(request, client)
    return appointment


def _form_page(request, appointment):
    choices = _choices(request, appointment)
    form = AppointmentForm(request, **_initial(request, appointment, choices))
    inline = None
    if appointment is None:
        inline = newclient.new_client_form(request)
        if form.new_client.data:
            form.client_id.required = None  # the client is the new one
    else:
        del form.new_client
        # Their client stays possible, even if assigned to someone else since.
        form.client_id.keep = appointment.client
    _offer(form, choices)
    plugin_fields = fields.form_fields(request, appointment, {f.name for f in form})
    problem, field_errors = None, {}
    if request.method == "POST":
        # The plugins' fields (and the new client's) are checked even when
        # the core's are not, so that every problem shows at once.
        values = _appointment_values(request, form, choices, appointment)
        inline_ok = _inline_client_ok(form, inline)
        extra, field_errors = fields.validate(request, plugin_fields, appointment)
        if values is not None and inline_ok and not field_errors:
            try:
                if appointment is None:
                    created = _create(request, form, inline, values, extra)
                    if created is not None:
                        return _saved(request, created, True)
                else:
                    update_appointment(request, appointment, extra=extra, **values)
                    return _saved(request, appointment, False)
            except SlotTaken as exc:
                form.add_error("start_time", exc.args[0])
            except AppointmentError as exc:
                problem = exc.args[0]
    return {
        "form": form,
        "new_client": inline,
        "appointment": appointment,
        "problem": problem,
        "plugin_fields": fields.render(request, plugin_fields, appointment, field_errors),
    }


@view_config(route_name="appointment_new", renderer="appointments/form.html", permission="staff")
def appointment_new(request):
    return _form_page(request, None)


@view_config(route_name="appointment_edit", renderer="appointments/form.html", permission="staff")
def appointment_edit(request):
    appointment = appointment_or_404(request, _id(request))
    if appointment.status is Status.cancelled:
        flash(request, _("This appointment has been cancelled."), "error")
        return HTTPSeeOther(request.route_path("appointment", id=appointment.id))
    return _form_page(request, appointment)


@view_config(route_name="appointment_cancel", permission="staff", request_method="POST")
def appointment_cancel(request):
    appointment = appointment_or_404(request, _id(request))
    if appointment.status is Status.cancelled:
        flash(request, _("This appointment has been cancelled."), "info")
    else:
        cancel_appointment(request, appointment)
        flash(request, _("The appointment is cancelled."), "success")
    return HTTPSeeOther(request.route_path("appointment", id=appointment.id))


# ---- detail


def _mail_notice(organisation, client):
    """Why the client gets no e-mail (so staff must pass on the link), or None."""
    if client_mail_enabled(organisation, client):
        return None
    if organisation.options["no_emails"]:
        return _(
            "This organisation sends no e-mails: give the client this link another"
            " way (by phone, text message or your own e-mail)."
        )
    return _(
        "The client has no e-mail address: give them this link another way"
        " (by phone, text message or your own e-mail)."
    )


@view_config(route_name="appointment", renderer="appointments/detail.html", permission="staff")
def appointment_detail(request):
    org = request.organisation
    appointment = appointment_or_404(request, _id(request))
    record(request, "appointment.read", "appointment", appointment.id)
    opens, closes = link_window(appointment, org)
    request.response.cache_control = "no-store"  # the page carries the client's link
    return {
        "appointment": appointment,
        "starts": to_local(appointment.starts_at, org),
        "ends": to_local(appointment.ends_at, org),
        "opens": to_local(opens, org),
        "closes": to_local(closes, org),
        "with_name": with_name(appointment),
        "link": consult_link(request, appointment),
        "mail_notice": _mail_notice(org, appointment.client),
        "cancelled": appointment.status is Status.cancelled,
    }


# ---- list and today


def _day_bounds(org, first, last):
    """Naive UTC ``[start, end)`` of local days ``first`` to ``last`` inclusive."""
    return (
        to_utc(datetime.combine(first, time()), org),
        to_utc(datetime.combine(last + timedelta(days=1), time()), org),
    )


def _filter_choices(request, form):
    practitioners = bookable_practitioners(request, include_inactive=True)
    departments = visible_departments(request)
    form.practitioner.choices = with_none(_("Everyone"), ((u.id, u.name) for u in practitioners))
    form.department.choices = with_none(_("All departments"), ((d.id, d.name) for d in departments))


def _filtered(request, form):
    """The visible appointments matching the filters that are valid."""
    org = request.organisation
    query = visible_appointments(request).options(*_LOADED)
    form.validate()
    ok = {field.name: field.data for field in form if not field.errors and field.data}
    if "date_from" in ok:
        query = query.where(
            Appointment.starts_at >= _day_bounds(org, ok["date_from"], ok["date_from"])[0]
        )
    if "date_to" in ok:
        query = query.where(
            Appointment.starts_at < _day_bounds(org, ok["date_to"], ok["date_to"])[1]
        )
    if "practitioner" in ok:
        query = query.where(Appointment.practitioner_id == ok["practitioner"])
    if "department" in ok:
        query = query.where(
            or_(
                Appointment.department_id == ok["department"],
                Appointment.practitioner.has(User.department_id == ok["department"]),
            )
        )
    if "client" in ok:
        query = query.where(Appointment.client_id == ok["client"].id)
    if "status" in ok:
        query = query.where(Appointment.status == Status(ok["status"]))
    return query.order_by(Appointment.starts_at, Appointment.id)


@view_config(route_name="appointments", renderer="appointments/list.html", permission="staff")
def appointment_list(request):
    form = FilterForm(request)
    if "date_from" not in request.GET:
        form.date_from.data = local_now(request.organisation).date()  # upcoming by default
    _filter_choices(request, form)
    page = paginate(request.dbsession, _filtered(request, form), page_number(request))
    record(
        request, "appointment.list", "appointment", ids=[a.id for a in page.items], page=page.number
    )
    org = request.organisation
    query = [(k, v) for k, v in request.GET.items() if k != "page"]
    return {
        "form": form,
        "page": page,
        "query": query,
        "rows": [(a, to_local(a.starts_at, org), with_name(a)) for a in page.items],
    }


@view_config(
    route_name="appointments_today", renderer="appointments/today.html", permission="staff"
)
def appointments_today(request):
    org = request.organisation
    today = local_now(org).date()
    start, end = _day_bounds(org, today, today)
    by = "department" if request.GET.get("by") == "department" else "practitioner"
    appointments = request.dbsession.scalars(
        visible_appointments(request)
        .options(*_LOADED)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    record(
        request, "appointment.list", "appointment", ids=[a.id for a in appointments], page="today"
    )
    rows = [(a, to_local(a.starts_at, org), owner(a, by)) for a in appointments]
    legend = {o.key: o for _a, _t, o in rows}
    return {"rows": rows, "legend": list(legend.values()), "by": by, "today": today}


def includeme(config):
    org = "organisation"
    config.add_route("appointments", "/appointments", site=org)
    config.add_route("appointment_new", "/appointments/new", site=org)
    config.add_route("appointments_today", "/appointments/today", site=org)
    config.add_route("appointment", f"/appointments/{ID}", site=org)
    config.add_route("appointment_edit", f"/appointments/{ID}/edit", site=org)
    config.add_route("appointment_cancel", f"/appointments/{ID}/cancel", site=org)
    config.scan(__name__)
