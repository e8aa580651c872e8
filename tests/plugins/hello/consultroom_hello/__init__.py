"""A small but complete Consultroom plugin, used by the core's tests (and the
example in docs/plugins.md): its own page and static file, a menu entry,
dashboard and client page slots, per-organisation settings, a table with its
own migration branch, lifecycle hooks, listeners to the appointment
hooks, and a websocket message type."""

from markupsafe import escape
from pyramid.view import view_config
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.plugins import PluginInfo, enablement
from consultroom.tenancy.options import OptionSet, TextOption

plugin = PluginInfo(
    name="Hello",
    description="Greets the staff of organisations that enable it.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    settings=OptionSet((TextOption("greeting", "Greeting", default="Hello", max_length=100),)),
    migrations="consultroom_hello.migrations",
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


def greeting(request):
    row = enablement(request.dbsession, request.organisation, "hello")
    return plugin.settings.values(row.settings if row else {})["greeting"]


@view_config(
    route_name="hello.index", renderer="consultroom_hello:templates/hello.html", permission="staff"
)
def hello_page(request):
    visits = request.dbsession.scalars(
        select(Visit).where(Visit.organisation_id == request.organisation.id)
    ).all()
    return {"greeting": greeting(request), "visits": visits}


@hookimpl
def consultroom_menu_items(request):
    CALLS.append(("menu", request.organisation.subdomain))
    return [MenuItem("Hello", request.route_path("hello.index"), order=90)]


@hookimpl
def consultroom_template_slot(request, slot, context):
    CALLS.append(("slot", request.organisation.subdomain))
    if slot == "dashboard":
        name = escape(context["user"].name)
        return f'<p class="hello-slot">{escape(greeting(request))}, {name}!</p>'
    if slot == "client":
        name = escape(context["client"].display_name)
        return f'<p class="hello-client">{escape(greeting(request))}, {name}!</p>'
    return None


@hookimpl
def consultroom_client_delete_blockers(request, client):
    if client.last_name == UNDELETABLE:
        return [f"Hello keeps {client.display_name}."]
    return None


def _event(request, hook, *arguments):
    APPOINTMENT_EVENTS.append((hook, request.organisation.subdomain, *arguments))


@hookimpl
def consultroom_appointment_created(request, appointment, notify):
    _event(request, "created", appointment.id, notify)


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
    config.scan()
