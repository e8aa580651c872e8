"""Remote support: the hosting provider's support user acts as a staff
member of an organisation that allows it ("allow_remote_support").

On the console, "Act as" issues a single-use token valid for two minutes and
sends the browser to the organisation's subdomain, where the token starts a
session as the staff member that also carries the support user's id. Every
entry recorded in that session names both (the audit trail reads
``request.support_user``). The session ends with "End support session", at
logout, or on the first request after the organisation has withdrawn its
permission (or the support account was disabled).
"""

from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.db.scope import organisation_scope

SUPPORT_USER = "support_user_id"  # session key: the support user acting as this session's user


def allowed(organisation):
    return organisation.options["allow_remote_support"]


def support_account(dbsession, user_id):
    """A user of the hosting provider (a superuser: of no organisation), which
    an organisation's scope hides; None if there is no such superuser."""
    with organisation_scope(dbsession, None):
        return dbsession.get(User, user_id)


def support_staff(request, organisation):
    """The staff members support may act as, or None when the organisation
    does not allow remote support (for the console's organisation page)."""
    if not allowed(organisation):
        return None
    return request.dbsession.scalars(
        select(User)
        .where(
            User.organisation_id == organisation.id,
            User.role.in_(STAFF_ROLES),
            User.active.is_(True),
        )
        .order_by(User.name)
    ).all()


def _support_user(request):
    """The hosting provider's user acting as this session's staff member, or None."""
    user_id = request.session.get(SUPPORT_USER)
    return support_account(request.dbsession, user_id) if user_id is not None else None


def includeme(config):
    # Not reified: a support session starts in the middle of a request.
    config.add_request_method(_support_user, "support_user", property=True)
    config.include(".views")
