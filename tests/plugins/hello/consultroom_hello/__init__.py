"""A small but complete Consultroom plugin, used by the core's tests (and the
example in docs/plugins.md): its own page and static file, a menu entry,
slots on staff pages (dashboard, client, appointment) and client-facing
ones (booking and walk-in widgets, client portal), per-organisation
settings, tables with their own migration branch, lifecycle hooks,
listeners to the appointment hooks, a field on the appointment form, client
e-mail placeholders, a Content-Security-Policy addition and a websocket
message type."""

import re

from markupsafe import Markup
from pyramid.view import view_config
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.appointments.fields import FieldInvalid
from consultroom.db import Base
from consultroom.hookspecs import MailPlaceholder, MenuItem, hookimpl
from consultroom.plugins import PluginInfo
from consultroom.tenancy.options import OptionSet, TextOption

plugin = PluginInfo(
    name="Hello",
    description="Greets the staff of organisations that enable it.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    settings=OptionSet(
        (
            TextOption("greeting", "Greeting", default="Hello", max_length=100),
            # A secret setting: stored sealed, never shown back; the page
            # names its last four characters, as a service's console would.
            TextOption("signing_key", "Signing key", max_length=100, secret=True),
        )
    ),
    migrations="consultroom_hello.migrations",
    # What the hello slots would load from elsewhere (the tests check the header).
    csp={
        "script-src": ["https://js.hello.example"],
        "frame-src": ["https://frames.hello.example/embed/"],
    },
)

# What the hooks saw, for the tests: (hook name, organisation subdomain).
CALLS = []
# What the appointment hooks saw, for the tests: (hook name, organisation
# subdomain, then the hook's own arguments).
APPOINTMENT_EVENTS = []
# A client of this name may not be deleted where the plugin is enabled.
UNDELETABLE = "Keep"


class Visit(Base):
    """One row per organisation that enabled the plugin, made by the enable hook."""

    __tablename__ = "hello_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(100))


class Code(Base):
    """An appointment's hello code, saved by the appointment form's field."""

    __tablename__ = "hello_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(3))


def greeting(request):
    return request.plugin_settings("hello")["greeting"]


@view_config(
    route_name="hello.index", renderer="consultroom_hello:templates/hello.html", permission="staff"
)
def hello_page(request):
    visits = request.dbsession.scalars(
        select(Visit).where(Visit.organisation_id == request.organisation.id)
    ).all()
    settings = request.plugin_settings("hello")
    key_ends = settings["signing_key"][-4:] if len(settings["signing_key"]) > 8 else ""
    return {"greeting": settings["greeting"], "key_ends": key_ends, "visits": visits}


@hookimpl
def consultroom_menu_items(request):
    CALLS.append(("menu", request.organisation.subdomain))
    return [MenuItem("Hello", request.route_path("hello.index"), order=90)]


def _slot_html(css, request, whom):
    return Markup('<p class="{}">{}, {}!</p>').format(css, greeting(request), whom)


def _slot_subject(slot, context):
    """What a slot of the core shows of its context (for the tests), or None."""
    named = [getattr(context.get(k), "name", "") for k in ("owner", "widget", "practitioner")]
    match slot:
        case "dashboard":
            return context["user"].name
        case "client":
            return context["client"].display_name
        case "appointment":
            return f"appointment {context['appointment'].id}"
        case "booking_widget" | "walk_in_widget":
            return " ".join([context["page"], *filter(None, named)])
        case "waiting_room":
            return f"waiting {context['appointment'].id}"
        case "participant_waiting_room":
            return f"{context['participant'].display_name} waiting {context['appointment'].id}"
        case "client_portal":
            return f"{context['client'].display_name} ({len(context['appointments'])})"
        case "usage_report":
            department = context["department"].name if context["department"] else "all"
            return f"usage {context['first']}..{context['last']} {department}"
    return None


@hookimpl
def consultroom_template_slot(request, slot, context):
    CALLS.append(("slot", request.organisation.subdomain))
    subject = _slot_subject(slot, context)
    if subject is None:
        return None
    css = "hello-slot" if slot == "dashboard" else f"hello-{slot.replace('_', '-')}"
    return _slot_html(css, request, subject)


def code_of(request, appointment):
    return request.dbsession.scalar(
        select(Code).where(
            Code.organisation_id == request.organisation.id,
            Code.appointment_id == appointment.id,
        )
    )


class CodeField:
    """The appointment form's "Hello code": empty, or three capital letters."""

    name = "hello_code"
    _valid = re.compile(r"[A-Z]{3}")

    def render(self, request, appointment, posted, error):
        if posted is not None:
            value = posted.get(self.name, "")
        else:
            saved = appointment is not None and code_of(request, appointment)
            value = saved.code if saved else ""
        described = Markup(' aria-describedby="hello_code-error" aria-invalid="true"')
        return Markup(
            '<label for="hello_code">Hello code</label>'
            '<input id="hello_code" name="hello_code" value="{}" maxlength="10"{}>'
        ).format(value, described if error else "")

    def validate(self, request, appointment, posted):
        value = posted.get(self.name, "").strip()
        if value and not self._valid.fullmatch(value):
            raise FieldInvalid("A hello code is three capital letters.")
        return value

    def save(self, request, appointment, value):
        row = code_of(request, appointment)
        if not value:
            if row is not None:
                request.dbsession.delete(row)
            return
        if row is None:
            row = Code(organisation_id=request.organisation.id, appointment_id=appointment.id)
            request.dbsession.add(row)
        row.code = value
        request.dbsession.flush()


@hookimpl
def consultroom_appointment_form_fields(request, appointment):
    return [CodeField()]


@hookimpl
def consultroom_mail_placeholders(request):
    return [
        MailPlaceholder("hello_code", "The appointment's hello code", sample="<XYZ>"),
        MailPlaceholder("hello_greeting", "The organisation's hello greeting", sample="Hi"),
    ]


@hookimpl
def consultroom_mail_placeholder_values(request, appointment, kind):
    row = code_of(request, appointment)
    # No value for an appointment without a code: the placeholder is left empty.
    values = {"hello_greeting": f"{greeting(request)} ({kind})"}
    if row is not None:
        values["hello_code"] = row.code
    return values


@hookimpl
def consultroom_client_delete_blockers(request, client):
    if client.last_name == UNDELETABLE:
        return [f"Hello keeps {client.display_name}."]
    return None


def _event(request, hook, *arguments):
    APPOINTMENT_EVENTS.append((hook, request.organisation.subdomain, *arguments))


@hookimpl
def consultroom_appointment_created(request, appointment, notify, origin):
    _event(request, "created", appointment.id, notify, origin)


@hookimpl
def consultroom_appointment_changed(request, appointment, changes):
    _event(request, "changed", appointment.id, changes)


@hookimpl
def consultroom_appointment_cancelled(request, appointment):
    _event(request, "cancelled", appointment.id, appointment.status.value)


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    _event(request, "anonymised", sorted(appointment_ids))


@hookimpl
def consultroom_staff_created(request, user):
    _event(request, "staff_created", user.email)


@hookimpl
def consultroom_mail_refused(request, message, reason):
    _event(request, "mail_refused", message.recipient, reason)


@hookimpl
def consultroom_plugin_enabled(organisation, settings, dbsession):
    CALLS.append(("enabled", organisation.subdomain))
    dbsession.add(Visit(organisation_id=organisation.id, note="enabled"))


@hookimpl
def consultroom_plugin_disabled(organisation, dbsession):
    CALLS.append(("disabled", organisation.subdomain))


def wave(connection, message):
    """A websocket message type of the plugin (the realtime door): reaches
    here only from a staff socket of an organisation that enabled it."""
    connection.send({"type": "hello.waved", "role": connection.role.name})


def includeme(config):
    config.add_realtime_message_type("hello.wave", wave, roles=("staff",))
    config.add_plugin_route("hello.index", "/hello")
    config.add_plugin_static_view("hello-static", "consultroom_hello:static")
    # Not the migrations: they are Alembic's, and importing Alembic costs each start ~0.1 s.
    config.scan(ignore=".migrations")
