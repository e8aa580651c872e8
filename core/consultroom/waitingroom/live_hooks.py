"""The "Waiting room" menu entry, with the number of waiting clients; the
badge on a waiting client's entry naming the extra participants who wait
with them (organisation setting "participants_join")."""

from sqlalchemy import select

from consultroom.appointments.models import AppointmentParticipant
from consultroom.clients.models import Participant
from consultroom.hookspecs import MenuItem, WaitingAnnotation, hookimpl
from consultroom.i18n import _
from consultroom.waitingroom.shell_hooks import shown_waiting_count


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return []
    count = shown_waiting_count(request)
    label = request.localizer.translate(_("Waiting room"))
    if count:
        label = f"{label} ({count})"
    return [
        MenuItem(
            label, request.route_path("waiting_list"), section="main", order=5, icon="waiting-room"
        )
    ]


@hookimpl
def consultroom_waiting_list_annotations(request, appointments):
    rows = request.dbsession.execute(
        select(AppointmentParticipant.appointment_id, Participant)
        .join(Participant, Participant.id == AppointmentParticipant.participant_id)
        .where(
            AppointmentParticipant.appointment_id.in_([a.id for a in appointments]),
            AppointmentParticipant.waiting_peer.is_not(None),
            Participant.organisation_id == request.organisation.id,
        )
        .order_by(AppointmentParticipant.appointment_id, Participant.id)
    ).all()
    names = {}
    for appointment_id, participant in rows:
        names.setdefault(appointment_id, []).append(participant.display_name)
    t = request.localizer.translate
    return [
        WaitingAnnotation(
            appointment_id, t(_("Waiting with: ${names}", mapping={"names": ", ".join(found)}))
        )
        for appointment_id, found in names.items()
    ]
