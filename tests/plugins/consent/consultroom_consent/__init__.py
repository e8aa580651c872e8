"""A consent form before the waiting room, used by the core's tests (and the
examples in docs/plugins.md): an admission step whose page the client fills
in, stored in the plugin's own table, and a log of every consultation and
client lifecycle event the plugin hears, in the transaction of the event,
so that tests (also against a separate server process) can read when each
one fired and for which organisation."""

from datetime import datetime

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.appointments.admission import step_appointment, waiting_room_url
from consultroom.db import Base, utcnow
from consultroom.hookspecs import AdmissionStep, hookimpl
from consultroom.plugins import PluginInfo
from consultroom.web.errors import not_found

_ = TranslationStringFactory("consultroom_consent")

plugin = PluginInfo(
    name="Consent",
    description="Clients agree to the terms before they enter the waiting room.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    migrations="consultroom_consent.migrations",
)

STEP = "consent.form"
# A client of this last name makes the admission hook fail, for the tests
# that prove it runs inside the call-in's transaction.
UNADMITTABLE = "Unadmittable"


class ConsentGiven(Base):
    """A client's "I agree" for one appointment."""

    __tablename__ = "consent_given"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    # No foreign key on purpose: the client's row going does not delete
    # these, ``consultroom_client_erased`` does (the tests prove it).
    client_id: Mapped[int | None] = mapped_column(index=True)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEvent(Base):
    """One lifecycle hook call, as the plugin heard it."""

    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(30))
    appointment_id: Mapped[int | None] = mapped_column()
    room_id: Mapped[str | None] = mapped_column(String(43))
    client_id: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)


def consented(request, appointment):
    return (
        request.dbsession.scalar(
            select(ConsentGiven.id).where(
                ConsentGiven.organisation_id == request.organisation.id,
                ConsentGiven.appointment_id == appointment.id,
            )
        )
        is not None
    )


@hookimpl
def consultroom_admission_steps(request, appointment):
    return [
        AdmissionStep(
            id=STEP,
            label=request.localizer.translate(_("Consent form")),
            url=request.route_path("consent.form", token=appointment.token),
            done=consented(request, appointment),
            order=10,
        )
    ]


@view_config(route_name="consent.form", renderer="consultroom_consent:templates/consent.html")
def consent_form(request):
    appointment = step_appointment(request, request.matchdict["token"])
    if appointment is None:
        return not_found(request)
    if consented(request, appointment):
        return HTTPSeeOther(waiting_room_url(request, appointment))
    problem = None
    if request.method == "POST":
        if request.POST.get("agree") == "yes":
            request.dbsession.add(
                ConsentGiven(
                    organisation_id=request.organisation.id,
                    appointment_id=appointment.id,
                    client_id=appointment.client_id,
                )
            )
            return HTTPSeeOther(waiting_room_url(request, appointment))
        problem = request.localizer.translate(
            _("Tick the box to agree, or contact us if you do not.")
        )
        request.response.status = 400
    return {"problem": problem, "organisation": request.organisation}


def _log(request, event, appointment_id=None, room_id=None, client_id=None):
    request.dbsession.add(
        ConsentEvent(
            organisation_id=request.organisation.id,
            event=event,
            appointment_id=appointment_id,
            room_id=room_id,
            client_id=client_id,
        )
    )


@hookimpl
def consultroom_room_opened(request, room):
    _log(request, "room_opened", room.appointment_id, room.id)


@hookimpl
def consultroom_client_arrived(request, appointment):
    _log(request, "client_arrived", appointment.id, None, appointment.client_id)


@hookimpl
def consultroom_client_admitted(request, appointment, room):
    if appointment.client is not None and appointment.client.last_name == UNADMITTABLE:
        raise RuntimeError("consent: this client may not be admitted")
    _log(request, "client_admitted", appointment.id, room.id, appointment.client_id)


@hookimpl
def consultroom_room_ended(request, room):
    _log(request, "room_ended", room.appointment_id, room.id)


@hookimpl
def consultroom_client_erased(request, client):
    request.dbsession.execute(
        delete(ConsentGiven).where(
            ConsentGiven.organisation_id == request.organisation.id,
            ConsentGiven.client_id == client.id,
        )
    )
    _log(request, "client_erased", client_id=client.id)


def includeme(config):
    config.add_plugin_route("consent.form", "/consent/{token:[A-Za-z0-9_-]{20,64}}")
    # Not the migrations: they are Alembic's, and importing Alembic costs each start ~0.1 s.
    config.scan(ignore=".migrations")
