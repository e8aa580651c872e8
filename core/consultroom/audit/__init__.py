"""The audit trail: an append-only, hash-chained record of who read or changed what.

``record(request, action, ...)`` notes an entry; the entries are linked into
their organisation's chain just before the request's transaction commits, in
that transaction: an entry exists exactly when what it describes committed,
and the chain's lock is held only while committing.
"""

import json

from sqlalchemy import inspect

from consultroom.audit.chain import append
from consultroom.audit.models import CONSOLE_CHAIN, AuditEntry
from consultroom.db import utcnow


def _clean(detail):
    """Only JSON values, exactly as they will be read back (and hashed)."""
    return json.loads(json.dumps(detail, default=str))


def _who(request, actor):
    """``(user_id, name)`` of whoever acts: a staff member, the API key, or nobody."""
    caller = getattr(request, "caller", None)  # set on API requests
    user = actor or (caller.user if caller is not None else request.identity)
    if user is not None:
        return user.id, user.name
    if caller is not None:
        return None, f"API key {request.organisation.api_key_hint}…"
    return None, ""


def record(
    request, action, object_type=None, object_id=None, *, actor=None, organisation=None, **detail
):
    """Append an audit entry for this request's actor and organisation.

    ``detail`` holds what else matters (never secrets, nor client free text
    beyond what is needed). ``actor`` names the user where the request does
    not know them yet (at login); ``organisation`` the organisation a console
    action concerns. ``request.support_user`` (consultroom.remotesupport)
    names the hosting provider's user acting as this session's user, if any.
    """
    organisation = organisation or request.organisation
    user_id, user_name = _who(request, actor)
    support = request.support_user
    entry = AuditEntry(
        organisation_id=organisation.id if organisation is not None else CONSOLE_CHAIN,
        at=utcnow(),
        user_id=user_id,
        user_name=user_name,
        support_user_id=support.id if support else None,
        support_user_name=support.name if support else "",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        address=request.client_addr or "",
        detail=_clean(detail),
    )
    _pending(request).append(entry)


def changed_fields(obj):
    """The names of ``obj``'s attributes changed since it was loaded or last
    flushed: what an update entry lists (the values may be personal data)."""
    return sorted(attr.key for attr in inspect(obj).attrs if attr.history.has_changes())


def _pending(request):
    """This transaction's entries, appended by a before-commit hook."""
    transaction = request.tm.get()
    try:
        return transaction.data(_pending)
    except KeyError:
        entries = []
        transaction.set_data(_pending, entries)
        transaction.addBeforeCommitHook(append, (request.dbsession, entries))
        return entries


def includeme(config):
    config.include(".anchor")
