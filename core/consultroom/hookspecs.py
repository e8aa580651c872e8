"""The hook contract between Consultroom's core and its plugins.

Plugins (bundled or third-party) and the core's own features implement these
hooks with ``@hookimpl``. Every hook here is *tenant-scoped*: it is only ever
called through ``request.hooks`` (or ``registry.plugins.hooks_for(org)`` when
there is no request), which leaves out the plugins that the organisation has
not enabled. A plugin therefore never runs for an organisation that did not
switch it on.

A hook implementation may accept any subset of the arguments a hook names.
An implementation whose name is not declared here (a misspelling, say) stops
the application at start-up with an error that names the plugin and the hook.

Unless a hook says otherwise it is called with keyword arguments and returns a
list with one result per implementation, ``None`` results left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    from pyramid.request import Request  # untyped: Any to mypy, named for the reader
    from sqlalchemy.orm import Session

    from consultroom.accounts.models import User
    from consultroom.appointments.models import Appointment, Origin
    from consultroom.clients.models import Client
    from consultroom.mail.models import OutboxMessage
    from consultroom.room.models import Room
    from consultroom.tenancy.models import Department, Organisation

PROJECT = "consultroom"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# Where fills_slots records an implementation's slots.
SLOTS = "consultroom_slots"
_Function = TypeVar("_Function", bound=Callable[..., object])


def fills_slots(*names: str) -> Callable[[_Function], _Function]:
    """Declare the slots a ``consultroom_template_slot`` implementation
    fills, so that it is called only for those (see that hook)."""
    if not names or not all(isinstance(name, str) and name for name in names):
        raise TypeError("fills_slots needs the names of the slots, such as fills_slots('login')")

    def declare(function: _Function) -> _Function:
        setattr(function, SLOTS, frozenset(names))
        return function

    return declare


@dataclass(frozen=True)
class MenuItem:
    """One entry in the staff menu.

    ``label`` is already translated; ``url`` is absolute or site-relative;
    ``section`` names the group of the staff menu the entry is shown in:
    "main" (daily work: the dashboard, waiting room, appointments, clients,
    availability, and a plugin's everyday pages such as messages),
    "organisation" (the organisation's settings), "people" (departments and
    staff), "communication" (what clients get: e-mail templates,
    waiting-room texts, widgets), "profile" (the user's own account). Any
    other section is shown under "More", before the profile;
    ``order`` sorts them within a section (core entries use multiples of 10).
    """

    label: str
    url: str
    section: str = "main"
    order: int = 100
    icon: str = ""


@hookspec
def consultroom_menu_items(request: Request) -> list[MenuItem] | None:
    """Return the staff menu entries this feature adds for ``request``.

    Called on every staff page that renders the menu, after the user has
    been authenticated. Return a list of :class:`MenuItem` (or ``None``);
    check ``request.has_permission`` yourself so that each role sees only
    what it may open. The results of all implementations are concatenated
    and sorted by section and order.
    """


@hookspec
def consultroom_template_slot(request: Request, slot: str, context: dict[str, Any]) -> str | None:
    """Return HTML to place in the named ``slot`` of a page.

    Called while a page template renders ``{{ slot("name") }}``. ``slot`` is
    the slot's name and ``context`` a dict of what the page shows:

    Staff pages (someone is logged in: ``request.identity``):

    - ``head`` (every page with the layout: in ``<head>``), ``footer`` (at
      its end): ``{}``
    - ``top_bar`` (every staff page, in the header beside the user's name:
      room for a short indicator, such as unread messages): ``{}``
    - ``dashboard``, ``profile``: ``{"user": user}``
    - ``organisation_settings``: ``{}``
    - ``staff_member`` (an administrator edits a staff member):
      ``{"member": member}``
    - ``client`` (a client's page): ``{"client": client}``
    - ``appointment`` (the page of one appointment, also a cancelled one:
      check ``appointment.status``): ``{"appointment": appointment}``
    - ``usage_report`` (the usage report, ``/reports/usage``, for
      organisation and department admins: room for a plugin's own figures
      of the same days, e.g. payments): ``{"first": date, "last": date,
      "department": department_or_None}``, the report's local days
      (inclusive) and the department it is about (None: the organisation)
    - ``waiting_list`` (the live waiting list, ``/waiting-room``): ``{}``;
      its entries are drawn by the page's script from the socket, each an
      ``<li data-appointment="<id>">`` in ``[data-entries]``, so a script of
      yours finds them there

    Client-facing pages (nobody is logged in: ``request.identity`` is
    ``None``; what you show is seen by the public or by the one client):

    - ``booking_widget``, on each page of the booking widget (``/book``,
      embeddable): ``{"page": "choose"}`` (pick a practitioner or
      department); ``{"page": "slots", "owner": practitioner_or_department}``
      (the free times); ``{"page": "details", "owner": ...}`` (the
      visitor's form); ``{"page": "done", "owner": ..., "appointment":
      appointment}`` (booked)
    - ``walk_in_widget``: ``{"page": "list", "widget": widget}`` (who is
      available now); ``{"page": "intake", "widget": widget,
      "practitioner": user}`` (the visitor's form)
    - ``client_portal`` (``/portal/<token>``, the client's own list):
      ``{"client": client, "appointments": [appointment, ...]}``, their
      upcoming scheduled appointments
    - ``waiting_room`` (the client's waiting page):
      ``{"appointment": appointment}``
    - ``participant_waiting_room`` (an extra participant's waiting page, on
      their own link): ``{"appointment": appointment, "participant":
      participant}``; the client's links and answers stay off it

    The staff login page (nobody is logged in yet):

    - ``login``, below the password form, for login providers' buttons
      ("Log in with Google"; see ``consultroom_login_method``):
      ``{"next": path}``, where to go once logged in

    Return a string of HTML, already escaped where it contains user data
    (``markupsafe.Markup``/``escape`` or a rendered template), or ``None``.
    Results are joined in registration order. A client-facing widget page
    may be shown in an iframe on the organisation's own site: links that
    should open as the main page need ``target="_top"``.

    Declare the slots your implementation fills with
    ``@fills_slots("login", "profile")`` (from this module, beside
    ``@hookimpl``): it is then called for those slots only, and a page
    whose slots no enabled plugin fills calls no plugin code at all, as
    every page shows several slots. An implementation without the
    declaration is called for every slot.
    """


@hookspec
def consultroom_department_delete_blockers(
    request: Request, department: Department
) -> list[str] | None:
    """Return reasons why ``department`` cannot be deleted now.

    Called when an administrator asks to delete a department, inside the
    request's transaction and before anything is changed. Return a list of
    translated, human-readable sentences (for example "3 staff members still
    belong to this department."), or ``None`` when nothing of yours depends
    on the department. Any reason refuses the deletion and is shown.
    """


@hookspec
def consultroom_staff_created(request: Request, user: User) -> None:
    """React to a new staff member of the request's organisation.

    Called after the user row has been flushed and the invitation queued,
    inside the same transaction: raising aborts the whole creation. Returns
    nothing.
    """


@hookspec
def consultroom_plugin_enabled(
    organisation: Organisation, settings: dict[str, Any], dbsession: Session
) -> None:
    """Prepare the plugin for an organisation that has just enabled it.

    Called on the one plugin being enabled (never on the others), inside the
    transaction that records the enablement; raising aborts it. ``settings``
    is the plugin's settings dict for that organisation, its secrets opened.
    Returns nothing.
    """


@hookspec
def consultroom_plugin_disabled(organisation: Organisation, dbsession: Session) -> None:
    """Clean up after an organisation has disabled the plugin.

    Called on the one plugin being disabled, inside the transaction that
    records it. Data may be kept for a later re-enable; anything that must
    stop (scheduled work, open sessions) should stop here. Returns nothing.
    """


@hookspec
def consultroom_mail_refused(request: Request, message: OutboxMessage, reason: str) -> None:
    """React to an e-mail that the mail server refused for good.

    Called by the outbox (outside any web request) when the server
    permanently refused a recipient (a 5xx reply): the message is not retried
    and its row is already marked "refused". ``request`` is built for the
    message's organisation, with its own transaction: anything queued
    through it (a notice to an administrator, say) is sent when that
    transaction commits. ``message`` is the
    :class:`~consultroom.mail.models.OutboxMessage` (``recipient``,
    ``subject``, and ``ref``, what the message was about, e.g.
    ``"appointment:12"``); ``reason`` is the server's reply, such as
    ``"550 no such user"``. Raising is logged and otherwise ignored.
    Returns nothing.
    """


@hookspec
def consultroom_client_delete_blockers(request: Request, client: Client) -> list[str] | None:
    """Return reasons why ``client`` cannot be deleted now.

    Called when a staff member asks to delete a client, inside the request's
    transaction and before anything is changed. Count everything of yours
    that depends on the client, also what this staff member may not see.
    Return a list of translated, human-readable sentences, or ``None``: any
    reason refuses the deletion and is shown.
    """


@hookspec
def consultroom_appointment_created(
    request: Request, appointment: Appointment, notify: bool, origin: Origin
) -> None:
    """React to a new appointment of the request's organisation.

    Called by the appointments service for every new appointment (booked by
    staff, the booking or walk-in widget or the API, or a quick
    consultation), after the appointment has been flushed (it has its id and
    the client's link token) and recorded in the audit trail, inside the same
    transaction: raising aborts the whole creation, and what you queue
    through the request (``request.queue_mail``) is sent only when it
    commits. ``notify`` is False when the client must not be messaged: a
    walk-in visitor goes straight to the waiting room, and staff pass on
    the link of a quick consultation themselves unless they ask to send
    it. ``origin`` (``consultroom.appointments.models.Origin``, a string)
    says who made it: "staff" (the appointment form or a quick
    consultation), "booking" (a client, through the booking widget),
    "walk_in" (a visitor, through the walk-in widget) or "api". Returns
    nothing.
    """


@hookspec
def consultroom_appointment_changed(
    request: Request, appointment: Appointment, changes: dict[str, Any]
) -> None:
    """React to a change of an appointment that is not cancelled.

    Called by the appointments service after the change has been flushed and
    recorded, inside the same transaction (raising aborts the change), and
    only when something changed. ``changes`` maps each field that changed
    (``client``, ``practitioner``, ``department``, ``starts_at``,
    ``duration_minutes``, ``message``, ``participants``) to its value before
    the change; ``appointment`` holds the new values. Returns nothing.
    """


@hookspec
def consultroom_appointment_cancelled(request: Request, appointment: Appointment) -> None:
    """React to the cancellation of an appointment.

    Called by the appointments service once per appointment, when it is
    cancelled (not again for one already cancelled), after the new status
    has been flushed and recorded, inside the same transaction: raising
    aborts the cancellation. Returns nothing.
    """


@hookspec
def consultroom_appointment_anonymised(request: Request, appointment_ids: list[int]) -> None:
    """Forget what you keep about the client of appointments just anonymised.

    Called by the anonymisation job (outside any web request: ``request`` is
    built for the organisation) once per batch, inside the transaction that
    cleared the client, the personal message and the participants of the
    appointments whose ids are in ``appointment_ids``: delete or blank
    your own records about those clients' consultations there, so that both
    happen or neither. Date, time, duration and practitioner stay. Raising
    aborts the batch. Returns nothing.
    """


# ---- Doors: extra fields on the appointment form, mail placeholders --------

if TYPE_CHECKING:
    from consultroom.appointments.fields import AppointmentField


@hookspec
def consultroom_appointment_form_fields(
    request: Request, appointment: Appointment | None
) -> list[AppointmentField] | None:
    """Return the fields you add to the staff's appointment form.

    Called each time the new-appointment form (``appointment`` is ``None``)
    or the edit form of ``appointment`` is shown or posted. Return a list
    of objects with the :class:`consultroom.appointments.fields.AppointmentField`
    methods (``name``, ``render``, ``validate``, ``save``), or ``None``
    (for example when this staff member may not choose). The core renders
    them after its own fields; on a post it validates its own fields and
    every plugin field, and only when all are valid creates or changes the
    appointment and then calls each field's ``save`` in that transaction,
    before the created/changed hooks (so the invitation's placeholders see
    what was saved). A field that refuses its value
    (``raise FieldInvalid(message)``) has the form shown again with the
    message at the field, and nothing is written.

    Only this form has the fields: quick consultations, the booking and
    walk-in widgets and the API create appointments without them (use
    ``consultroom_appointment_created`` to give those your default).
    """


@dataclass(frozen=True)
class MailPlaceholder:
    """A placeholder a plugin offers in the client e-mail texts.

    ``name`` is written ``*|name|*`` in a text: lower-case letters and
    ``_`` only, and not one of the core's names (prefix it with your
    plugin's id, e.g. ``payments_link``); ``description`` (translated) is
    shown to the organisation admin who edits the texts; ``sample`` is what
    the preview shows.
    """

    name: str
    description: str
    sample: str = ""


@hookspec
def consultroom_mail_placeholders(request: Request) -> list[MailPlaceholder] | None:
    """Return the placeholders you offer in the client e-mail texts.

    Called when an organisation admin edits, saves or previews a template
    set (a text using a placeholder nobody offers is refused, as a
    misspelt core one is) and when a client e-mail is written. Returns a
    list of :class:`MailPlaceholder`, or ``None``.
    """


@hookspec
def consultroom_mail_placeholder_values(
    request: Request, appointment: Appointment, kind: str
) -> dict[str, str] | None:
    """Return the values of your placeholders for one client e-mail.

    Called while the client e-mail ``kind`` ("invitation", "reminder",
    "change", "cancellation") about ``appointment`` is written: by the
    appointment hooks in the transaction of the change, and by the reminder
    job. Return a dict of placeholder name to text, or ``None``. Only the
    names you declared in ``consultroom_mail_placeholders`` are used (a
    core name is never replaced); one you declared but give no value for
    this e-mail becomes empty. The e-mails are plain text: give plain text
    (a link as its address), not HTML.
    """


# -- Lifecycle of the consultation and of the client, and admission steps --------------
#
# The consultation's moments are changed from websockets (consultroom.room):
# ``request`` is then the socket's request (the staff member's who called the
# client in, ended the room), and "the transaction" is the socket's short
# transaction of that one action.


@hookspec
def consultroom_client_arrived(request: Request, appointment: Appointment) -> None:
    """React to a client who has just come into the waiting room.

    Called once per arrival: when the client of ``appointment`` first opens
    the waiting room through their link (their socket says hello), inside
    that socket's transaction, after their visit is stored; not again when
    the same client reloads the page or reconnects, nor when they are sent
    back from the room, and not for a client who goes straight into a
    consultation that was force-started before they came. Use it to let
    staff who are not looking at the waiting list know (a notification, a
    message to a pager); do slow work (sending) after the commit
    (``consultroom.db.after_commit``). Raising refuses the client's entry.
    Returns nothing.
    """


@hookspec
def consultroom_client_admitted(request: Request, appointment: Appointment, room: Room) -> None:
    """React to a client let into the consultation room.

    Called when a practitioner calls the client of ``appointment`` in from
    the waiting list, or force-starts the appointment (the client may not
    have arrived yet: they then go straight into ``room`` when they come),
    after the room has been opened and the client's visit marked "in the
    room", inside the same socket transaction: raising aborts the call-in
    (the client stays in the waiting room and the practitioner sees an
    error). Called once per admission: again if the client was sent back
    to the waiting room and called in again. Never called for a client
    whose admission steps are unfinished (``consultroom_admission_steps``).
    Returns nothing.
    """


@hookspec
def consultroom_room_opened(request: Request, room: Room) -> None:
    """React to a consultation room that has just opened.

    Called once per room, when the core creates it: the first call-in or
    force start of an appointment (``room.appointment``) while it has no
    open room, a quick consultation started (its room opens at once), or
    an empty room opened by staff (``room.appointment`` is None). A later
    call-in into the same open room does not call it again; after the room
    ended, the next call-in opens a new room and calls it again. Called
    after the room has been flushed (``room.id``, ``room.started_at``),
    before ``consultroom_client_admitted``, in the same transaction (the
    socket's, or the page request's that starts a quick consultation or an
    empty room): raising aborts it. Returns nothing.
    """


@hookspec
def consultroom_room_ended(request: Request, room: Room) -> None:
    """React to the end of a consultation.

    Called once per room, when a staff member in the room ends the
    consultation (the room's "end" button): a room is not ended by its
    participants leaving (staff may send the client back and call them in
    again, or rejoin after a reload). Called after ``room.ended_at`` is set,
    the client's visit is ended and the room's shared files are deleted,
    inside that socket transaction, before the participants are told:
    raising aborts the end (the staff member sees an error). Returns
    nothing.
    """


@hookspec
def consultroom_client_erased(request: Request, client: Client) -> None:
    """Delete what you keep about a client who is being deleted.

    Called when staff delete ``client`` (the client's page, or ``DELETE``
    on the REST API), after the deletion was allowed
    (``consultroom_client_delete_blockers``) and recorded in the audit
    trail, while the client's row still exists, inside the transaction that
    deletes it: delete your records of this client (``client.id``) there,
    so that both happen or neither. The client's appointments stay, without
    their client (as when anonymised). Raising aborts the deletion. Returns
    nothing.
    """


@dataclass(frozen=True)
class AdmissionStep:
    """One step a client must finish before the waiting room.

    ``id`` is unique for the step (prefix it with your plugin id:
    ``"consent.form"``); ``label`` is already translated, in the request's
    language; ``url`` opens the step's page for this appointment (its page
    sends the client back with
    ``consultroom.appointments.admission.waiting_room_url``); ``done`` says,
    checked on the server now, whether the client has finished it;
    ``order`` sorts the steps (then ``id``).
    """

    id: str
    label: str
    url: str
    done: bool
    order: int = 100


@hookspec
def consultroom_admission_steps(
    request: Request, appointment: Appointment
) -> list[AdmissionStep] | None:
    """Return the steps the client of ``appointment`` must finish first.

    Called each time the core decides whether the client may wait: when the
    client opens the appointment's link (``/c/<token>``, also after a
    walk-in), when their websocket says hello as a waiting client, and when
    staff call them in or force-start the appointment (each in its own
    transaction: compute ``done`` there, from your own tables). While any
    step is not done, the link shows the steps with links to their pages
    instead of the waiting room, the websocket is refused with the error
    ``steps_unfinished`` (the client never appears in the waiting list),
    and call-in and force start are refused with a message to staff naming
    the steps. Return a list of :class:`AdmissionStep` (include finished
    ones, with ``done=True``: the client sees their progress), or ``None``
    when this appointment needs nothing of yours. Keep it quick and free of
    side effects: it is called often.
    """


# -- The room's regions and the staff waiting list's annotations ------------------------


@dataclass(frozen=True)
class RoomButton:
    """A button in the consultation room's toolbar.

    ``id`` names it on the page (``data-room-button="<id>"``; start it with
    your plugin id, e.g. ``"notes.open"``): your script (a
    :class:`RoomScript`) finds the button by it and handles its clicks.
    ``label`` is already translated and is the button's accessible name;
    ``order`` sorts the plugins' buttons (after the core's).
    """

    id: str
    label: str
    order: int = 100


@dataclass(frozen=True)
class RoomTab:
    """A tab of the room's side panel (beside "Files" and "Participants").

    ``id`` names it on the page (``data-room-tab="<id>"`` on the tab,
    ``data-room-tab-panel="<id>"`` on its panel); ``label`` is the tab's
    translated name; ``html`` the panel's content, escaped where it holds
    user data (``markupsafe.Markup``/``escape`` or a rendered template).
    """

    id: str
    label: str
    html: str
    order: int = 100


@dataclass(frozen=True)
class RoomOverlay:
    """HTML laid over the top of the room's video stage (a caption line, a
    notice), never over the toolbar. ``id`` names it on the page
    (``data-room-overlay="<id>"``); ``label`` is the region's translated
    accessible name; ``html`` as in :class:`RoomTab`.
    """

    id: str
    label: str
    html: str
    order: int = 100


@dataclass(frozen=True)
class RoomScript:
    """A JavaScript module loaded on the room's page after the core's
    scripts (site-relative ``url``, e.g. from ``config.add_plugin_static_view``):
    ``window.consultroom.socket`` is ready when it runs."""

    url: str


RoomRegion = RoomButton | RoomTab | RoomOverlay | RoomScript


@hookspec
def consultroom_room_regions(
    request: Request, role: str, room: Room | None
) -> list[RoomRegion] | None:
    """Return what you add to the consultation room: toolbar buttons, side
    panel tabs, overlays over the stage, and the scripts that drive them.

    Called while a page with the room renders: the staff room and the
    guest's invitation page (``room`` is the
    :class:`~consultroom.room.models.Room`), and the client's waiting page,
    which becomes the room once the client is called in (``room`` is
    ``None`` there: the room does not exist yet). ``role`` is ``"staff"``,
    ``"client"`` or ``"guest"``: return only what that role may see. Return
    a list of :class:`RoomButton`, :class:`RoomTab`, :class:`RoomOverlay`
    and :class:`RoomScript`, or ``None``. Your script talks to the server
    through the page's socket (``window.consultroom.socket``) and your
    realtime message types (``config.add_realtime_message_type``).
    """


@dataclass(frozen=True)
class WaitingAnnotation:
    """A short badge on one client's entry in the staff's live waiting list.

    ``appointment_id`` says whose entry; ``text`` is already translated and
    short ("consent pending", "paid", "2 unread messages": longer text is
    cut at 60 characters); ``tone`` colours it: ``"info"``, ``"ok"`` or
    ``"warning"``.
    """

    appointment_id: int
    text: str
    tone: str = "info"


@hookspec
def consultroom_waiting_list_annotations(
    request: Request, appointments: list[Appointment]
) -> list[WaitingAnnotation] | None:
    """Return badges for the entries of clients waiting for these
    ``appointments``.

    Called when the staff's live waiting list loads a section and each time
    a waiting client's entry changes (arrives, leaves, gets a note), inside
    that transaction, with the request of the websocket that caused it (the
    organisation's). Return a list of :class:`WaitingAnnotation` (any
    number per appointment, in order), or ``None``. The entry shows what
    you returned until it changes again: after a change of yours (consent
    given), call ``consultroom.waitingroom.live.entry_changed(request,
    appointment_id)`` in that request so that every list shows the new
    badges. Keep it quick (one query for all ``appointments``): it runs for
    every change of the list.
    """


@dataclass(frozen=True)
class ListBadge:
    """A short badge on one row of a staff list (the clients list, the
    appointments list).

    ``row_id`` is the id of the row's object (a client's or an
    appointment's); ``text`` is already translated and short ("2 new
    messages", "paid": cut at 60 characters); ``tone`` colours it
    (``"info"``, ``"ok"`` or ``"warning"``); ``url``, when given, makes it a
    link (site-relative).
    """

    row_id: int
    text: str
    tone: str = "info"
    url: str = ""


@hookspec
def consultroom_list_badges(
    request: Request, list_name: str, rows: list[Any]
) -> list[ListBadge] | None:
    """Return badges for the rows of one page of a staff list.

    Called once per page while a staff list renders, with the objects the
    page shows: ``list_name`` is ``"clients"`` (``rows`` are
    :class:`~consultroom.clients.models.Client`) or ``"appointments"``
    (``rows`` are :class:`~consultroom.appointments.models.Appointment`),
    each already limited to what the logged-in staff member may see. Return
    a list of :class:`ListBadge` (any number per row, in order), or
    ``None``. Keep it to one query for all ``rows``: it runs on every page
    of the list.
    """


# ---- Door: periodic worker jobs ---------------------------------------------

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta


@dataclass(frozen=True)
class WorkerJob:
    """A job that ``consultroom worker`` runs periodically for each
    organisation that enabled its plugin.

    ``name`` identifies the job (prefix it with your plugin's id:
    ``"keycard.expire_codes"``; at most 100 characters); ``interval`` is how
    often it runs (a positive ``datetime.timedelta``): at most once in each
    period of that length, counted from 1970-01-01 00:00 UTC (a job of one
    hour runs once in each hour of the clock, a day once each UTC day).
    ``run(request)`` does one run for the organisation of ``request`` (a
    request for its site, as the worker builds one), inside one
    transaction that commits when it returns and is undone when it raises;
    it returns how much it did (a number, shown in the worker's log) or
    ``None``. A transaction the database refused for a concurrent one
    (SQLite's "database is locked", PostgreSQL's serialization failure) is
    undone and ``run`` called again with a new request, as an HTTP request
    is retried.
    """

    name: str
    interval: timedelta
    run: Callable[[Request], int | None]

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= 100:
            raise ValueError(f"a worker job's name has 1 to 100 characters, not {self.name!r}")
        if self.interval.total_seconds() <= 0:
            raise ValueError(f"worker job {self.name!r} needs a positive interval")


@hookspec
def consultroom_worker_jobs() -> list[WorkerJob] | None:
    """Return the periodic jobs you want the worker to run.

    Called by ``consultroom worker`` in each round, once for every
    organisation, on the plugins that organisation enabled only: a job
    runs for an organisation only while it has your plugin on. Return a
    list of :class:`WorkerJob`, or ``None``. For each job and organisation
    the worker claims the run of the current period first (one conditional
    UPDATE of a claim row, committed before the job runs): with several
    workers running, exactly one of them runs it, and a run that raises is
    logged and not retried before the next period, while the other
    organisations and jobs carry on.
    """


# ---- Doors: authentication providers and the login page ---------------------


@dataclass(frozen=True)
class LoginMethod:
    """A provider's answer to "may this e-mail address log in with a password
    here?" (``consultroom_login_method``): instead of checking the password,
    send the browser to ``url`` (a route of yours, such as the start of your
    single sign-on) or, when there is no ``url``, show ``message`` (already
    translated) on the login form."""

    url: str = ""
    message: str = ""


@hookspec(firstresult=True)
def consultroom_login_method(request: Request, email: str, user: User | None) -> LoginMethod | None:
    """Say how ``email`` logs in, when it should not be with a password.

    Called by the staff login form of an organisation's site (and by the
    page that sets a password from an e-mailed link, which would log the
    user in) after the form is valid and the rate limit allows a try, and
    before the password is checked or set. ``user`` is the active or
    inactive staff member with that address in this organisation, or
    ``None`` when there is none: answer alike for both unless you mean to
    tell who has an account. Return ``None`` for "the password, as usual",
    or a :class:`LoginMethod`: its ``url`` is where the browser is sent
    (303), else its ``message`` is shown and the password is not checked
    (the try counts towards the rate limit, as a wrong password does). The
    first implementation that returns something decides (``firstresult``).

    Your provider logs the user in on its own routes with
    ``consultroom.accounts.login.start_staff_session``; show its button in
    the ``login`` slot of ``consultroom_template_slot``.
    """


# ---- Doors: commands of the ``consultroom`` program -------------------------


@dataclass(frozen=True)
class Command:
    """A subcommand of the ``consultroom`` program (``consultroom <name>``),
    for a process of the installation such as a worker of your own.

    ``name`` is the subcommand (prefix-free, lower case, not one of the
    core's: a clash is left out with a warning); ``help`` one line for
    ``consultroom --help``; ``run(registry)`` does the work with the
    application's registry (its settings, database and message bus), in
    the command's environment, and returns when the command is done (or
    runs until stopped, for a long-running process).
    """

    name: str
    help: str
    run: Callable[[Any], None]


@hookspec
def consultroom_commands() -> list[Command] | None:
    """Return the subcommands you add to the ``consultroom`` program.

    Called while the ``consultroom`` program parses its command line, on
    every installed and usable plugin: an installation-level hook, not a
    tenant one (a command serves
    the installation; it decides for itself which organisations it works
    for, e.g. those that enabled the plugin). Return a list of
    :class:`Command`, or ``None``.
    """
