"""The REST API's views: clients and appointments.

Every query starts from clients/access.py or appointments/access.py with the
caller's user (None for the API key), and every appointment change goes
through appointments/service.py, exactly as the staff pages do.
"""

from pydantic import ValidationError
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import String, cast, func, select, type_coerce
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import Role, User
from consultroom.api import schemas
from consultroom.api.auth import api_auth
from consultroom.api.errors import ApiError, detail, validation_details
from consultroom.api.paging import Keyset, keyset_page, plain_rows
from consultroom.appointments import service
from consultroom.appointments.access import appointment_or_404, visible_appointments
from consultroom.appointments.models import (
    Appointment,
    Origin,
    Status,
    appointment_participant,
)
from consultroom.audit import record
from consultroom.clients.access import client_or_404, visible_clients
from consultroom.clients.erasure import erase_client
from consultroom.clients.models import Client, Participant
from consultroom.clients.numbers import number_taken
from consultroom.clients.search import search_clients
from consultroom.db.texts import utc_text
from consultroom.i18n import _
from consultroom.tenancy.models import Department

MAX_BODY = 64 * 1024
# The session or the key is checked (and CSRF for sessions) by api_auth;
# every input by the pydantic models (not by consultroom.web.inputs).
API = {"renderer": "json", "require_csrf": False, "decorator": api_auth, "checks_own_input": True}
INVALID = _("Some fields are not valid.")
CLIENT_ORDER = Keyset("clients", (Client.last_name, Client.initials, Client.id))
APPOINTMENT_ORDER = Keyset("appointments", (Appointment.starts_at, Appointment.id))


# ---- input


def parse_body(request, model):
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError(400, _("The body is too large."))
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, _("Send JSON with 'Content-Type: application/json'."))
    try:
        return model.model_validate_json(request.body or b"", strict=True)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ApiError(400, _("The body is not valid JSON.")) from None
        raise ApiError(422, INVALID, validation_details(exc)) from None


def parse_query(request, model):
    try:
        params = dict(request.GET)
    except UnicodeDecodeError:
        raise ApiError(400, _("The query string is not valid UTF-8.")) from None
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ApiError(422, INVALID, validation_details(exc)) from None


def _of_organisation(request, model, ids, field):
    """The organisation's rows of ``model`` with ``ids``; 422 naming the
    field for any id that is not one of them (another tenant's included)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    rows = request.dbsession.scalars(
        select(model).where(model.organisation_id == request.organisation.id, model.id.in_(ids))
    ).all()
    found = {row.id: row for row in rows}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ApiError(
            422,
            INVALID,
            [detail(field, _("Unknown id: ${ids}.", mapping={"ids": ", ".join(missing)}))],
        )
    return [found[i] for i in ids]


def _one_of_organisation(request, model, object_id, field):
    return None if object_id is None else _of_organisation(request, model, [object_id], field)[0]


def _visible_client(request, client_id, field="client_id"):
    client = request.dbsession.scalar(
        visible_clients(request, request.caller.user).where(Client.id == client_id)
    )
    if client is None:
        raise ApiError(
            422, INVALID, [detail(field, _("Unknown id: ${ids}.", mapping={"ids": str(client_id)}))]
        )
    return client


def _path_id(request):
    """The id in the URL. The route takes up to 18 digits, but ids are 32-bit
    on PostgreSQL, which refuses to compare a larger number with them."""
    object_id = int(request.matchdict["id"])
    if object_id > schemas.MAX_ID:
        raise HTTPNotFound()
    return object_id


def _created(request, body):
    request.response.status = 201
    return body


# ---- clients

CLIENT_FIELDS = (
    "initials",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "client_number",
    "language",
)


def _client_query(request):
    return visible_clients(request, request.caller.user).options(
        selectinload(Client.departments), selectinload(Client.practitioners)
    )


def _client_or_404(request):
    return client_or_404(request, _path_id(request), request.caller.user)


def _apply_client(request, client, data, fields):
    for name in CLIENT_FIELDS:
        if name in fields:
            setattr(client, name, getattr(data, name))
    if "department_ids" in fields:
        client.departments = _of_organisation(
            request, Department, data.department_ids, "department_ids"
        )
    if "practitioner_ids" in fields:
        client.practitioners = _of_organisation(
            request, User, data.practitioner_ids, "practitioner_ids"
        )


def _own_by_default(request, client, given):
    """A staff member's new client is theirs and their department's unless
    they say otherwise: under strict segregation they would not see it else."""
    user = request.caller.user
    if user is None or user.role is Role.org_admin:
        return
    if "practitioner_ids" not in given and user.role is Role.practitioner:
        client.practitioners = [user]
    if "department_ids" not in given and user.department_id is not None:
        client.departments = [request.dbsession.get(Department, user.department_id)]


def _number_is_free(request, client):
    """A client number taken in one of the client's departments is refused
    (``clients.numbers``), as on the client form."""
    departments = [d.id for d in client.departments]
    problem = number_taken(request, client.client_number, departments, client)
    if problem:
        raise ApiError(409, problem, [detail("client_number", problem)])


def _must_see_client(request, client):
    _number_is_free(request, client)
    request.dbsession.flush()
    if (
        request.dbsession.scalar(
            visible_clients(request, request.caller.user).where(Client.id == client.id)
        )
        is None
    ):
        raise ApiError(
            403,
            _(
                "You would no longer see this client: keep yourself or"
                " your department among its practitioners or departments."
            ),
        )


def _clients_json(_request, clients):
    return [schemas.ClientOut.of(client).model_dump(mode="json") for client in clients]


@view_config(route_name="api.clients", request_method="GET", **API)
def list_clients(request):
    query = parse_query(request, schemas.ClientQuery)
    found = search_clients(request.dbsession, _client_query(request), query.q).order_by(
        *CLIENT_ORDER.columns
    )
    filters = {"q": query.q}
    return keyset_page(request, found, query, CLIENT_ORDER, filters, _clients_json, "client")


@view_config(route_name="api.clients", request_method="POST", **API)
def create_client(request):
    data = parse_body(request, schemas.ClientCreate)
    client = Client(organisation_id=request.organisation.id)
    _apply_client(request, client, data, schemas.ClientCreate.model_fields)
    _own_by_default(request, client, data.model_fields_set)
    request.dbsession.add(client)
    _must_see_client(request, client)
    record(request, "client.create", "client", client.id, via="api")
    return _created(request, schemas.ClientOut.of(client).model_dump(mode="json"))


@view_config(route_name="api.client", request_method="GET", **API)
def get_client(request):
    client = _client_or_404(request)
    record(request, "client.read", "client", client.id, via="api")
    return schemas.ClientOut.of(client).model_dump(mode="json")


@view_config(route_name="api.client", request_method="PATCH", **API)
def update_client(request):
    client = _client_or_404(request)
    data = parse_body(request, schemas.ClientUpdate)
    _apply_client(request, client, data, data.model_fields_set)
    _must_see_client(request, client)
    record(
        request,
        "client.update",
        "client",
        client.id,
        changed=sorted(data.model_fields_set),
        via="api",
    )
    return schemas.ClientOut.of(client).model_dump(mode="json")


@view_config(route_name="api.client", request_method="DELETE", **API)
def delete_client(request):
    """The client's appointments stay, without their client (as when anonymised)."""
    client = _client_or_404(request)
    erase_client(request, client, via="api")
    return Response(status=204)


# ---- appointments


def _participant_ids_text():
    """An appointment's participants' ids, as text separated by commas."""
    link = appointment_participant.c
    return (
        select(func.aggregate_strings(cast(link.participant_id, String), ","))
        .where(link.appointment_id == Appointment.id)
        .scalar_subquery()
    )


# What _listed_json reads, in its order: each appointment's participants in
# the same statement (one round trip), and the times written by the
# database (in Python that cost more than the rest). The kind and the
# status as stored: their names, which are their values (a test checks).
_LISTED = (
    Appointment.id,
    Appointment.client_id,
    Appointment.practitioner_id,
    Appointment.department_id,
    type_coerce(Appointment.kind, String),
    type_coerce(Appointment.status, String),
    utc_text(Appointment.starts_at),
    utc_text(Appointment.starts_at, Appointment.duration_minutes),
    Appointment.duration_minutes,
    Appointment.message,
    _participant_ids_text(),
    utc_text(Appointment.created_at),
    utc_text(Appointment.updated_at),
    Appointment.starts_at,  # the sort key, for the next page's cursor
)


def _listed_appointments(query):
    """``query`` (a select of appointments) as plain rows of ``_LISTED``."""
    return query.with_only_columns(*_LISTED)


def _listed_json(row):
    """What ``AppointmentOut.of(appointment).model_dump(mode="json")`` gives,
    from a row of ``_LISTED``, without the ORM object or
    pydantic (which cost more than the rest of a page of up to 100), and
    read by position (a row's attribute costs ten times its index)."""
    participants = row[10]
    return {
        "id": row[0],
        "client_id": row[1],
        "practitioner_id": row[2],
        "department_id": row[3],
        "kind": row[4],
        "status": row[5],
        "starts_at": row[6],
        "ends_at": row[7],
        "duration_minutes": row[8],
        "message": row[9],
        "participant_ids": sorted(map(int, participants.split(","))) if participants else [],
        "created_at": row[11],
        "updated_at": row[12],
    }


def _appointments_json(_request, rows):
    return [_listed_json(row) for row in rows]


def _appointment_or_404(request):
    return appointment_or_404(request, _path_id(request), request.caller.user)


def _filter(query, q):
    conditions = [
        (q.from_, lambda v: Appointment.starts_at >= v),
        (q.to, lambda v: Appointment.starts_at < v),
        (q.practitioner, lambda v: Appointment.practitioner_id == v),
        (q.client, lambda v: Appointment.client_id == v),
        (q.status, lambda v: Appointment.status == Status(v)),
    ]
    for value, condition in conditions:
        if value is not None:
            query = query.where(condition(value))
    return query


def _changes(request, data, fields):
    """The service's keyword arguments for the fields given."""
    lookups = {
        "client_id": ("client", lambda v: _visible_client(request, v)),
        "practitioner_id": (
            "practitioner",
            lambda v: _one_of_organisation(request, User, v, "practitioner_id"),
        ),
        "department_id": (
            "department",
            lambda v: _one_of_organisation(request, Department, v, "department_id"),
        ),
        "participant_ids": (
            "participants",
            lambda v: _of_organisation(request, Participant, v, "participant_ids"),
        ),
    }
    changes = {}
    for field in fields:
        value = getattr(data, field)
        name, lookup = lookups.get(field, (field, None))
        changes[name] = lookup(value) if lookup else value
    return changes


def _through_service(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except service.SlotTaken as exc:
        raise ApiError(409, exc.args[0]) from None
    except service.AppointmentError as exc:
        raise ApiError(422, exc.args[0]) from None


def _must_see_appointment(request, appointment):
    if (
        request.dbsession.scalar(
            visible_appointments(request, request.caller.user).where(
                Appointment.id == appointment.id
            )
        )
        is None
    ):
        raise ApiError(403, _("You may not book for this practitioner or department."))


def _appointment_out(appointment):
    return schemas.AppointmentOut.of(appointment).model_dump(mode="json")


@view_config(route_name="api.appointments", request_method="GET", **API)
def list_appointments(request):
    query = parse_query(request, schemas.AppointmentQuery)
    found = _listed_appointments(
        _filter(visible_appointments(request, request.caller.user), query)
    ).order_by(*APPOINTMENT_ORDER.columns)
    filters = query.model_dump(exclude={"limit", "cursor", "total"})
    return keyset_page(
        request,
        found,
        query,
        APPOINTMENT_ORDER,
        filters,
        _appointments_json,
        "appointment",
        fetch=plain_rows,
    )


@view_config(route_name="api.appointments", request_method="POST", **API)
def create_appointment(request):
    data = parse_body(request, schemas.AppointmentCreate)
    changes = _changes(request, data, schemas.AppointmentCreate.model_fields)
    appointment = _through_service(
        service.create_appointment, request, origin=Origin.api, **changes
    )
    _must_see_appointment(request, appointment)
    return _created(request, _appointment_out(appointment))


@view_config(route_name="api.appointment", request_method="GET", **API)
def get_appointment(request):
    appointment = _appointment_or_404(request)
    record(request, "appointment.read", "appointment", appointment.id, via="api")
    return _appointment_out(appointment)


@view_config(route_name="api.appointment", request_method="PATCH", **API)
def update_appointment(request):
    appointment = _appointment_or_404(request)
    data = parse_body(request, schemas.AppointmentUpdate)
    if appointment.status is Status.cancelled:
        raise ApiError(409, _("This appointment has been cancelled."))
    _through_service(
        service.update_appointment,
        request,
        appointment,
        **_changes(request, data, data.model_fields_set),
    )
    _must_see_appointment(request, appointment)
    return _appointment_out(appointment)


@view_config(route_name="api.appointment_cancel", request_method="POST", **API)
def cancel_appointment(request):
    appointment = _appointment_or_404(request)
    service.cancel_appointment(request, appointment)
    return _appointment_out(appointment)
