"""The live waiting room: who waits in which list, and what staff do with them.

Every function works inside the caller's transaction and returns what changed
plus the bus messages to publish once it commits (an
``consultroom.realtime.events.Events``). Waiting lists
are split into sections, one per bus channel: a practitioner's own
appointments (``user:<id>``), a department's appointments (``dept:<id>``,
seen by all its members) and appointments with neither (``unassigned:<org>``,
seen by organisation admins). A staff socket shows the union of its sections.

A change to a visit is published as that one entry on its section's channel
(``_entry``: here, with its details; ``_gone``: no longer in the list), never
as the whole section; each process's hub (``consultroom.waitingroom.hub``)
keeps its sections' entries and tells the watching sockets.

An entry carries the badges plugins give it
(``consultroom_waiting_list_annotations``), asked for when it is made.

Claiming is a conditional UPDATE (``... WHERE state = 'waiting'``) as the
transaction's first statement, so of two simultaneous "call in" clicks
exactly one updates the row; the other is told who won. Opening the room
for a claimed visit is the room's (``consultroom.room.service``), which
then marks the visit ``admitted``.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, false, func, or_, select, update
from sqlalchemy.orm import object_session, selectinload
from zope.sqlalchemy import mark_changed

from consultroom.accounts.models import Role, User
from consultroom.appointments.link import arrival
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.i18n import _, translated
from consultroom.plugins.gating import enabled_plugin_ids
from consultroom.realtime import (
    client_channel,
    department_channel,
    publish_after_commit,
    unassigned_channel,
    user_channel,
)
from consultroom.realtime.hooks import current_hooks
from consultroom.tenancy.models import Department, Organisation
from consultroom.tenancy.timezones import local_now, to_utc
from consultroom.waitingroom.models import CALLED, ENDED, IN_ROOM, WAITING, Visit
from consultroom.web.badges import collect

DEFAULT_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Staff:
    """The acting staff member as plain values: a socket outlives the
    transaction its User was loaded in."""

    id: int
    organisation_id: int
    department_id: int | None
    role: str
    name: str

    @classmethod
    def of(cls, user):
        return cls(user.id, user.organisation_id, user.department_id, user.role.value, user.name)


class LiveError(Exception):
    """A refused action: ``code`` (docs/realtime.md) and a translation string."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message


class ClaimLost(Exception):
    """Someone else called the client in first (``by``: their name)."""

    def __init__(self, by):
        super().__init__(by)
        self.by = by


def section_key(visit):
    if visit.practitioner_id:
        return user_channel(visit.practitioner_id)
    if visit.department_id:
        return department_channel(visit.department_id)
    return unassigned_channel(visit.organisation_id)


def touch(events, visit):
    """``visit``'s entry changed (arrived, left, noted, called in, ended): one
    bus message on its section's channel, made at the end of the transaction
    from the visit's final state."""

    def publish(dbsession, events):
        message = entry_message(visit, events.limits.grace_seconds, request=events.request)
        events.add(section_key(visit), message)

    events.finish_with(("visit", visit.id), publish)


def gone_in(visit, grace, now):
    """None while the client is connected; else the seconds until the visit
    leaves the list (0 or less: gone)."""
    if visit.connected:
        return None
    if visit.left_at is None:
        return 0
    return grace - (now - visit.left_at).total_seconds()


def entry_message(visit, grace, now=None, request=None):
    """The bus message telling the sections' hubs about ``visit``: its entry
    (``gone_in``: seconds until a disconnected client's grace ends), or that
    it left the list (``left``: the client went away, not called in).
    ``request`` (of the visit's organisation) asks the plugins for badges."""
    key = section_key(visit)
    seconds = gone_in(visit, grace, now or utcnow())
    if visit.state == WAITING and (seconds is None or seconds > 0):
        notes = annotations(request, [visit.appointment]).get(visit.appointment_id, [])
        return {"type": "_entry", "key": key, "entry": _entry(visit, notes), "gone_in": seconds}
    return {
        "type": "_gone",
        "key": key,
        "id": visit.id,
        "appointment_id": visit.appointment_id,
        "left": visit.state == WAITING,
    }


def sections_of(staff):
    """The section keys (bus channels) of ``staff``'s waiting list."""
    keys = [user_channel(staff.id)]
    if staff.department_id:
        keys.append(department_channel(staff.department_id))
    if staff.role == Role.org_admin.value:
        keys.append(unassigned_channel(staff.organisation_id))
    return keys


def _section_condition(organisation_id, key):
    kind, _colon, value = key.partition(":")
    number = int(value)
    if kind == "user":
        return Visit.practitioner_id == number
    if kind == "dept":
        return and_(Visit.practitioner_id.is_(None), Visit.department_id == number)
    return and_(
        Visit.practitioner_id.is_(None),
        Visit.department_id.is_(None),
        Visit.organisation_id == number,
    )


def visible_to(staff):
    """SQL condition: visits in ``staff``'s waiting list sections."""
    return and_(
        Visit.organisation_id == staff.organisation_id,
        or_(*(_section_condition(staff.organisation_id, k) for k in sections_of(staff))),
    )


def _appointment_visible_to(staff):
    own = Appointment.practitioner_id == staff.id
    department = (
        and_(
            Appointment.practitioner_id.is_(None), Appointment.department_id == staff.department_id
        )
        if staff.department_id
        else false()
    )
    unassigned = (
        and_(Appointment.practitioner_id.is_(None), Appointment.department_id.is_(None))
        if staff.role == Role.org_admin.value
        else false()
    )
    return and_(
        Appointment.organisation_id == staff.organisation_id, or_(own, department, unassigned)
    )


def _present(grace, now):
    """SQL condition: the client is connected, or left less than ``grace`` ago."""
    return or_(Visit.connected, Visit.left_at > now - timedelta(seconds=grace))


def _iso(dt):
    return dt.isoformat() + "Z" if dt else None


def _arrival_of(appointment, now):
    return "walk_in" if appointment.kind is Kind.walk_in else arrival(appointment, now)


def client_name(appointment):
    """The client's name as staff see it, in lists every staff member of a
    section shares: a walk-in who gave none is named in the organisation's
    language."""
    if appointment.client is None:
        return ""
    organisation = object_session(appointment).get(Organisation, appointment.organisation_id)
    return translated(appointment.client.display_name, organisation.language)


def entries(dbsession, organisation_id, key, grace, now=None, request=None):
    """The waiting list section ``key``: present, waiting visits by arrival,
    as (entry, seconds until it leaves the list or None); ``request`` (of
    the organisation) asks the plugins for the entries' badges."""
    now = now or utcnow()
    visits = dbsession.scalars(
        select(Visit)
        .where(
            Visit.organisation_id == organisation_id,
            Visit.state == WAITING,
            _section_condition(organisation_id, key),
            _present(grace, now),
        )
        .order_by(Visit.arrived_at, Visit.id)
        # What each entry shows, in a few queries rather than several per visit.
        .options(
            selectinload(Visit.appointment).selectinload(Appointment.client),
            selectinload(Visit.appointment).selectinload(Appointment.department),
            selectinload(Visit.appointment)
            .selectinload(Appointment.practitioner)
            .selectinload(User.department),
        )
    ).all()
    notes = annotations(request, [visit.appointment for visit in visits])
    return [
        (_entry(visit, notes.get(visit.appointment_id, [])), gone_in(visit, grace, now))
        for visit in visits
    ]


def annotations(request, appointments):
    """appointment id -> the badges (``{"text", "tone"}``) that the plugins
    enabled for ``request``'s organisation give its waiting entry."""
    if request is None or not appointments:
        return {}
    # Not request.hooks: a websocket's request lives for hours, and a plugin
    # switched on or off meanwhile counts from its next change.
    hooks = request.registry.plugins.hooks_for(enabled_plugin_ids(request))
    results = hooks.consultroom_waiting_list_annotations(
        request=request, appointments=list(appointments)
    )
    return collect(results, "appointment_id")


def entry_changed(request, appointment_id):
    """Show ``appointment_id``'s waiting entry again in every staff list
    once ``request``'s transaction commits (its plugin badges changed)."""
    visit = request.dbsession.scalar(
        select(Visit).where(
            Visit.appointment_id == appointment_id,
            Visit.organisation_id == request.organisation.id,
            Visit.state == WAITING,
        )
    )
    if visit is not None:
        grace = request.registry["realtime_limits"].grace_seconds
        message = entry_message(visit, grace, request=request)
        publish_after_commit(request, section_key(visit), message)


def _entry(visit, notes=()):
    appointment = visit.appointment
    department = appointment.department or (
        appointment.practitioner.department if appointment.practitioner else None
    )
    return {
        "id": visit.id,
        "appointment_id": appointment.id,
        "name": client_name(appointment),
        "starts_at": _iso(appointment.starts_at),
        "arrival": visit.arrival,
        "department": department.name if department else None,
        "connected": visit.connected,
        "arrived_at": _iso(visit.arrived_at),
        "note": visit.note,
        "annotations": list(notes),
    }


def waiting_appointment_ids(dbsession, organisation_id):
    """The appointments whose clients are in the waiting room now."""
    return dbsession.scalars(
        select(Visit.appointment_id).where(
            Visit.organisation_id == organisation_id, Visit.state == WAITING
        )
    ).all()


# Made once per staff member (every staff page counts their list): building
# the condition cost about as much as running the count. The time it depends
# on is bound at each execution (_now_params).
@lru_cache(maxsize=4096)
def _waiting_for(staff):
    """SQL condition: the visits in ``staff``'s waiting list at the time the
    parameters of ``_now_params`` give."""
    return and_(
        visible_to(staff),
        Visit.state == WAITING,
        or_(Visit.connected, Visit.left_at > bindparam("left_after")),
    )


def _now_params(grace):
    """The parameters of ``_waiting_for`` for now: who left less than
    ``grace`` seconds ago is still in the list."""
    return {"left_after": utcnow() - timedelta(seconds=grace)}


@lru_cache(maxsize=4096)
def _count_statement(staff):
    return select(func.count(Visit.id)).where(_waiting_for(staff))


def waiting_count(dbsession, staff, grace):
    """How many clients wait in ``staff``'s list (the menu's count)."""
    return dbsession.scalar(_count_statement(staff), _now_params(grace))


def waiting_visits(dbsession, staff, grace, limit=20):
    """The first ``limit`` visits in ``staff``'s waiting list now, by arrival,
    with their appointment and client (the dashboard's "waiting now")."""
    return dbsession.scalars(
        select(Visit)
        .where(_waiting_for(staff))
        .order_by(Visit.arrived_at, Visit.id)
        .limit(limit)
        .options(selectinload(Visit.appointment).selectinload(Appointment.client)),
        _now_params(grace),
    ).all()


def upcoming(dbsession, staff, organisation, grace, now=None):
    """Today's appointments of ``staff`` whose client is not here (yet): what
    force start can open."""
    now = now or utcnow()
    today = local_now(organisation).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    start, end = to_utc(today, organisation), to_utc(today + timedelta(days=1), organisation)
    rows = (
        dbsession.execute(
            select(Appointment)
            .outerjoin(Visit, Visit.appointment_id == Appointment.id)
            .where(
                _appointment_visible_to(staff),
                Appointment.status == Status.scheduled,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                or_(Visit.id.is_(None), and_(Visit.state == WAITING, ~_present(grace, now))),
            )
            .order_by(Appointment.starts_at)
        )
        .scalars()
        .all()
    )
    return [
        {"appointment_id": a.id, "name": client_name(a), "starts_at": _iso(a.starts_at)}
        for a in rows
    ]


def arrive(dbsession, appointment, peer, events, now=None):
    """The client's socket ``peer`` is here: its visit, created or taken
    over (an older socket of the same client is closed)."""
    now = now or utcnow()
    visit = dbsession.scalar(select(Visit).where(Visit.appointment_id == appointment.id))
    first_arrival = visit is None or visit.arrived_at is None
    if visit is None:
        visit = Visit(
            organisation_id=appointment.organisation_id,
            appointment=appointment,
            practitioner_id=appointment.practitioner_id,
            department_id=appointment.department_id,
            state=WAITING,
            arrival=_arrival_of(appointment, now),
            arrived_at=now,
        )
        dbsession.add(visit)
    elif visit.arrived_at is None:  # force-started before the client came
        visit.arrival, visit.arrived_at = _arrival_of(appointment, now), now
    visit.connected, visit.left_at, visit.last_seen = True, None, now
    previous, visit.peer = visit.peer, peer
    dbsession.flush()
    if previous and previous != peer:
        events.add(client_channel(visit.appointment_id), {"type": "_replaced", "peer": peer})
    if visit.state == WAITING:
        touch(events, visit)
    if first_arrival and visit.state == WAITING:
        current_hooks(events.request).consultroom_client_arrived(
            request=events.request, appointment=appointment
        )
    return visit


def leave(dbsession, visit_id, peer, events, now=None):
    """The client's socket ``peer`` closed; a newer socket keeps the visit."""
    now = now or utcnow()
    result = dbsession.execute(
        update(Visit)
        .where(Visit.id == visit_id, Visit.peer == peer)
        .values(connected=False, left_at=now, last_seen=now)
        .execution_options(synchronize_session=False)
    )
    mark_changed(dbsession)
    if result.rowcount:
        visit = dbsession.get(Visit, visit_id, populate_existing=True)
        if visit.state == WAITING:
            touch(events, visit)


def claim(dbsession, staff, visit_id):
    """Claim waiting visit ``visit_id`` for ``staff``: the visit, now
    "called" (its room is opened next, in the same transaction). Raises
    ClaimLost naming the winner (or nobody, when the client left), or
    LiveError when the visit is not in their list."""
    claimed = dbsession.execute(
        update(Visit)
        .where(Visit.id == visit_id, Visit.state == WAITING, visible_to(staff))
        .values(state=CALLED, claimed_by_id=staff.id)
        .execution_options(synchronize_session=False)
    )
    mark_changed(dbsession)
    if claimed.rowcount != 1:
        seen = dbsession.execute(
            select(Visit.state, User.name)
            .outerjoin(User, Visit.claimed_by_id == User.id)
            .where(visible_to(staff), Visit.id == visit_id)
        ).first()
        if seen is None:
            raise LiveError("not_found", _("This client is no longer waiting."))
        raise ClaimLost(seen.name or "")
    return dbsession.get(Visit, visit_id)


def admitted(dbsession, visit, room_id, staff, events):
    """The called ``visit``'s client is let into room ``room_id``."""
    visit.state, visit.room_id, visit.claimed_by_id, visit.note = IN_ROOM, room_id, staff.id, None
    dbsession.flush()
    events.add(client_channel(visit.appointment_id), {"type": "_admit", "room": room_id})
    touch(events, visit)


def visit_to_start(dbsession, staff, appointment_id):
    """Force start of one of ``staff``'s appointments, client or not: its
    visit, "called" (a room to open) or already "in_room"."""
    appointment = dbsession.scalar(
        select(Appointment).where(
            Appointment.id == appointment_id,
            _appointment_visible_to(staff),
            Appointment.status == Status.scheduled,
        )
    )
    if appointment is None:
        raise LiveError("not_found", _("This appointment is not in your list."))
    visit = dbsession.scalar(select(Visit).where(Visit.appointment_id == appointment.id))
    if visit is None:
        visit = Visit(
            organisation_id=appointment.organisation_id,
            appointment=appointment,
            practitioner_id=appointment.practitioner_id,
            department_id=appointment.department_id,
            state=CALLED,
        )
        dbsession.add(visit)
        dbsession.flush()
    elif visit.state == WAITING:
        visit = claim(dbsession, staff, visit.id)
    elif visit.state != IN_ROOM:
        visit.state = CALLED  # ended before: a new consultation
    return visit


def send_back(dbsession, room_id, events):
    """The client in room ``room_id`` goes back to the waiting room."""
    visit = dbsession.scalar(select(Visit).where(Visit.room_id == room_id, Visit.state == IN_ROOM))
    if visit is None:
        raise LiveError("not_found", _("The client is not in this room."))
    visit.state, visit.room_id, visit.claimed_by_id = WAITING, None, None
    events.add(client_channel(visit.appointment_id), {"type": "_sent_back", "room": room_id})
    touch(events, visit)
    return visit


def note(dbsession, staff, visit_id, text, events):
    """A one-line message to a waiting client ("running 10 minutes late")."""
    visit = dbsession.scalar(
        select(Visit).where(Visit.id == visit_id, visible_to(staff), Visit.state == WAITING)
    )
    if visit is None:
        raise LiveError("not_found", _("This client is no longer waiting."))
    visit.note = text
    events.add(client_channel(visit.appointment_id), {"type": "note", "text": text})
    touch(events, visit)


def transfer_targets(dbsession, staff):
    """Whom ``staff`` may hand a waiting client to: ``(colleagues,
    departments)`` of their organisation, by name (not themselves)."""
    colleagues = dbsession.scalars(
        select(User)
        .where(
            User.organisation_id == staff.organisation_id,
            User.id != staff.id,
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    ).all()
    departments = dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == staff.organisation_id)
        .order_by(Department.name, Department.id)
    ).all()
    return colleagues, departments


def _target(dbsession, staff, kind, target_id):
    """``(practitioner, department, name)`` for a transfer target, or LiveError."""
    colleagues, departments = transfer_targets(dbsession, staff)
    if kind == "user":
        for user in colleagues:
            if user.id == target_id:
                return user, user.department_id, user.name
    elif kind == "department":
        for department in departments:
            if department.id == target_id:
                return None, department.id, department.name
    raise LiveError("not_found", _("There is nobody to hand this client to by that name."))


def transfer(dbsession, staff, visit_id, kind, target_id, events):
    """Hand waiting visit ``visit_id`` to a colleague (``kind`` "user") or a
    department's waiting list ("department"). The client keeps their place
    (their arrival time) and is told whom they now wait for. The visit's
    row is locked and must still be waiting in ``staff``'s list, so of two
    hands at once the second finds it gone: a client moves exactly once."""
    visit = dbsession.scalar(
        select(Visit)
        .where(Visit.id == visit_id, visible_to(staff), Visit.state == WAITING)
        .with_for_update()
    )
    if visit is None:
        raise LiveError("not_found", _("This client is no longer waiting."))
    practitioner, department_id, name = _target(dbsession, staff, kind, target_id)
    if (visit.practitioner_id, visit.department_id) == (
        practitioner.id if practitioner else None,
        department_id,
    ):
        raise LiveError("not_found", _("This client already waits there."))
    old_key = section_key(visit)
    appointment = visit.appointment
    visit.practitioner_id = appointment.practitioner_id = practitioner.id if practitioner else None
    visit.department_id = appointment.department_id = department_id
    dbsession.flush()
    events.add(
        old_key,
        {
            "type": "_gone",
            "key": old_key,
            "id": visit.id,
            "appointment_id": visit.appointment_id,
            "left": False,
        },
    )
    touch(events, visit)
    events.add(client_channel(visit.appointment_id), {"type": "transferred", "to": name})
    record(
        events.request,
        "appointment.transferred",
        "appointment",
        appointment.id,
        actor=dbsession.get(User, staff.id),
        to=f"{kind}:{target_id}",
    )
    return visit


def end_visit(dbsession, room_id, events):
    """The room's consultation ended: its visit is over."""
    visit = dbsession.scalar(select(Visit).where(Visit.room_id == room_id))
    if visit is not None:
        was_waiting = visit.state == WAITING
        visit.state = ENDED
        if was_waiting:
            touch(events, visit)
    return visit
