"""A small but complete Consultroom plugin, used by the core's tests (and the
example in docs/plugins.md): its own page and static file, a menu entry, a
dashboard slot, per-organisation settings, a table with its own migration
branch, and lifecycle hooks."""

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
    return None


@hookimpl
def consultroom_plugin_enabled(organisation, settings, dbsession):
    CALLS.append(("enabled", organisation.subdomain))
    dbsession.add(Visit(organisation_id=organisation.id, note="enabled"))


@hookimpl
def consultroom_plugin_disabled(organisation, dbsession):
    CALLS.append(("disabled", organisation.subdomain))


def includeme(config):
    config.add_plugin_route("hello.index", "/hello")
    config.add_plugin_static_view("hello-static", "consultroom_hello:static")
    config.scan()
