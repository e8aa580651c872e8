"""Client numbers are unique within a department: two clients sharing a
department never share a number (clients in no department: among the
organisation's clients in no department). An empty number is no number.

The check locks first (PostgreSQL ``FOR NO KEY UPDATE``: it does not block
the rows' use as foreign keys), so that of two requests saving the same
number at once the second waits for the first to commit and then sees its
client: the departments concerned, in id order (no deadlock between two
savers), or the organisation's row for a client in no department. SQLite
allows one writing transaction at a time, and a request that lost the
race is retried (``pyramid_retry``) and then sees the winner."""

from sqlalchemy import select

from consultroom.clients.models import Client
from consultroom.i18n import _
from consultroom.tenancy.models import Department, Organisation


def _lock(request, department_ids):
    dbsession = request.dbsession
    if department_ids:
        dbsession.execute(
            select(Department.id)
            .where(
                Department.organisation_id == request.organisation.id,
                Department.id.in_(department_ids),
            )
            .order_by(Department.id)
            .with_for_update(key_share=True)
        ).all()
    else:
        dbsession.execute(
            select(Organisation.id)
            .where(Organisation.id == request.organisation.id)
            .with_for_update(key_share=True)
        ).all()


def number_taken(request, number, department_ids, client=None):
    """The problem (a translation string) when another client shares
    ``number`` and one of ``department_ids`` (or, with none, is in no
    department either), else None. ``client``: the one being edited."""
    if not number:
        return None
    department_ids = sorted(set(department_ids))
    _lock(request, department_ids)
    query = select(Client.id).where(
        Client.organisation_id == request.organisation.id, Client.client_number == number
    )
    if client is not None and client.id is not None:
        query = query.where(Client.id != client.id)
    if department_ids:
        query = query.where(Client.departments.any(Department.id.in_(department_ids)))
    else:
        query = query.where(~Client.departments.any())
    if request.dbsession.scalar(query.limit(1)) is None:
        return None
    if department_ids:
        return _(
            "Client number ${number} is already another client's in this department."
            " Check the number, or find the client in the list.",
            mapping={"number": number},
        )
    return _(
        "Client number ${number} is already another client's. Check the number, or find"
        " the client in the list.",
        mapping={"number": number},
    )
