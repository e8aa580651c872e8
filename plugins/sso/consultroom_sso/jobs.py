"""The worker's part: logins started and never finished, and SAML
assertions past their expiry (no longer replayable anyway), are deleted
once an hour."""

from datetime import timedelta

from sqlalchemy import delete
from zope.sqlalchemy import mark_changed

from consultroom.db import utcnow
from consultroom.hookspecs import WorkerJob, hookimpl
from consultroom_sso.models import PendingLogin, SeenAssertion


def forget_expired(request):
    now, removed = utcnow(), 0
    for model in (PendingLogin, SeenAssertion):
        removed += request.dbsession.execute(
            delete(model).where(
                model.organisation_id == request.organisation.id, model.expires_at < now
            )
        ).rowcount
    mark_changed(request.dbsession)  # bulk DELETEs: the transaction must commit them
    return removed


JOBS = [WorkerJob("sso.forget_expired", timedelta(hours=1), forget_expired)]


@hookimpl
def consultroom_worker_jobs():
    return JOBS
