"""Every staff view of a client's answers is written to the audit trail
(``questionnaires.view``, the response as its object); the questionnaire's
page shows its administrators who viewed which client's answers and when,
read back from the trail itself (linked entries and those still waiting
to be linked)."""

from sqlalchemy import select

from consultroom.audit import record
from consultroom.audit.models import AuditEntry, AuditPending
from consultroom.clients.models import Client
from consultroom_questionnaires.models import Response

VIEW = "questionnaires.view"
OBJECT = "questionnaire_response"
SHOWN = 50


def viewed(request, response, where):
    """Record that the logged-in staff member saw ``response``'s answers
    (``where``: page, room, pdf, text, image)."""
    record(request, VIEW, OBJECT, response.id, questionnaire=response.questionnaire_id, where=where)


def views_of(request, questionnaire):
    """The latest views of the questionnaire's answers, newest first:
    ``[(at, staff name, client name, where)]``."""
    responses = dict(
        request.dbsession.execute(
            select(Response.id, Client)
            .join(Client, Client.id == Response.client_id)
            .where(
                Response.organisation_id == request.organisation.id,
                Response.questionnaire_id == questionnaire.id,
            )
        ).all()
    )
    names = {id_: client.display_name for id_, client in responses.items()}
    found = []
    for model in (AuditEntry, AuditPending):
        rows = request.dbsession.execute(
            select(model.at, model.user_name, model.object_id, model.detail)
            .where(
                model.organisation_id == request.organisation.id,
                model.action == VIEW,
                model.detail["questionnaire"].as_integer() == questionnaire.id,
            )
            .order_by(model.at.desc())
            .limit(SHOWN)
        ).all()
        found += [
            (row.at, row.user_name, names.get(int(row.object_id)), row.detail.get("where"))
            for row in rows
        ]
    return sorted(found, key=lambda v: v[0], reverse=True)[:SHOWN]
