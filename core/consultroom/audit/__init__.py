"""The audit trail: an append-only, hash-chained record of who read or changed what.

``record(request, action, ...)`` notes an entry. The request's entries are
inserted just before its transaction commits, in that transaction (an entry
exists exactly when what it describes committed), as pending rows, which
takes no lock; once it has committed, the process's chainer links them into
their organisation's chain in a short transaction of its own, in the
background (``consultroom.audit.chain``).

This package is infrastructure below the features: it imports none of them
and reads what it needs of the request (``identity``, ``organisation``,
``caller`` of the API, ``support_user``) as request attributes.
"""

import json

from sqlalchemy import insert, inspect
from zope.sqlalchemy import mark_changed

from consultroom.audit.chain import Chainer
from consultroom.audit.models import CONSOLE_CHAIN, AuditPending
from consultroom.db import utcnow

CHAINER = "consultroom.audit_chainer"


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
    entry = dict(
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
    request.registry[CHAINER].link_after_commit(request.tm.get(), entry["organisation_id"])


def changed_fields(obj):
    """The names of ``obj``'s attributes changed since it was loaded or last
    flushed: what an update entry lists (the values may be personal data)."""
    return sorted(attr.key for attr in inspect(obj).attrs if attr.history.has_changes())


def _pending(request):
    """This transaction's entries, inserted by a before-commit hook: what a
    savepoint of the request rolls back does not take them along."""
    transaction = request.tm.get()
    try:
        return transaction.data(_pending)
    except KeyError:
        entries = []
        transaction.set_data(_pending, entries)
        transaction.addBeforeCommitHook(_insert, (request.dbsession, entries))
        return entries


def _insert(dbsession, entries):
    # One INSERT on the session's connection, not the ORM's unit of work
    # (whose bookkeeping cost more than the statement; nothing reads these
    # rows back in the request). Now: a session that has not run a
    # statement yet joins the transaction as it begins one here, and so
    # commits with it.
    # One entry (the usual) as one row: a list goes the executemany way,
    # whose set-up costs more than the row.
    dbsession.connection().execute(
        insert(AuditPending.__table__), entries[0] if len(entries) == 1 else entries
    )
    # Written outside the ORM: tell zope.sqlalchemy, which otherwise rolls
    # back a session that flushed nothing.
    mark_changed(dbsession)


def includeme(config):
    settings = config.get_settings()
    background = settings.get("audit.link_in_background", "true").lower() != "false"
    config.registry[CHAINER] = Chainer(config.registry["dbmaker"], background=background)
    config.include(".anchor")
