"""Private notes for practitioners."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.plugins import PluginInfo
from consultroom.tenancy.options import IntOption, OptionSet

plugin = PluginInfo(
    name="Notes",
    description="Private notes for practitioners.",
    author="Example Ltd",
    requires_core=">=0.1,<1",  # refused (and reported) on other core versions
    settings=OptionSet(
        (IntOption("max_notes", "Notes per user", default=100, minimum=1, maximum=1000),)
    ),
    migrations="consultroom_notes.migrations",
)


class Note(Base):
    __tablename__ = "notes_note"  # prefix tables with the plugin id

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))


@view_config(
    route_name="notes.list", renderer="consultroom_notes:templates/notes.html", permission="staff"
)
def notes(request):
    if request.method == "POST":
        text = request.POST.get("text", "").strip()[:500]
        if text:
            request.dbsession.add(
                Note(
                    organisation_id=request.organisation.id, user_id=request.identity.id, text=text
                )
            )
        return HTTPSeeOther(request.route_path("notes.list"))
    mine = request.dbsession.scalars(
        select(Note).where(
            Note.organisation_id == request.organisation.id,  # always scope to the tenant
            Note.user_id == request.identity.id,
        )
    )
    return {"notes": mine.all()}


@hookimpl
def consultroom_menu_items(request):
    return [
        MenuItem(request.localizer.translate("Notes"), request.route_path("notes.list"), order=80)
    ]


def includeme(config):
    config.add_plugin_route("notes.list", "/notes")
    # Not the migrations: they are Alembic's, and importing Alembic costs each start ~0.1 s.
    config.scan(ignore=".migrations")
