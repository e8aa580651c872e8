"""Which service messages a waiting client sees, and which ones a staff
member may manage."""

from sqlalchemy import or_, select

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom.waitingroom.models import ServiceMessage


def current_messages(dbsession, organisation, department_id=None, now=None):
    """Unexpired messages for the whole organisation and for ``department_id``."""
    now = now or utcnow()
    scope = ServiceMessage.department_id.is_(None)
    if department_id is not None:
        scope = or_(scope, ServiceMessage.department_id == department_id)
    return dbsession.scalars(
        select(ServiceMessage)
        .where(
            ServiceMessage.organisation_id == organisation.id,
            scope,
            or_(ServiceMessage.expires_at.is_(None), ServiceMessage.expires_at > now),
        )
        .order_by(ServiceMessage.created_at.desc())
    ).all()


def manageable(request):
    """Service messages the logged-in administrator may edit: all of the
    organisation's for an organisation admin, their department's otherwise."""
    user = request.identity
    query = select(ServiceMessage).where(ServiceMessage.organisation_id == request.organisation.id)
    if user.role is not Role.org_admin:
        query = query.where(ServiceMessage.department_id == user.department_id)
    return query.order_by(ServiceMessage.created_at.desc())
