"""The captions plugin's hook implementations: forgetting a transcript with
its appointment's anonymisation."""

from sqlalchemy import delete

from consultroom.hookspecs import hookimpl
from consultroom_translation.models import TranscriptLine


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    request.dbsession.execute(
        delete(TranscriptLine).where(
            TranscriptLine.organisation_id == request.organisation.id,
            TranscriptLine.appointment_id.in_(appointment_ids),
        )
    )
