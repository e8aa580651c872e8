"""Periodic jobs run by ``consultroom worker``: the core's reminders and
anonymisation, and the plugins' jobs, all declared through the
``consultroom_worker_jobs`` hook as ``WorkerJob``s (the core's in
``consultroom.jobs.hooks``).

In each round the worker goes through the organisations; for each job that
the organisation has (the core's, and those of the plugins it enabled) whose
period has come, it claims the run (``consultroom.jobs.claims``: exactly one
worker wins it, however many run) and then runs it through a request for the
organisation's site, in one transaction. One organisation's or one job's
failure is logged and does not stop the others.
"""

import logging
from collections import Counter
from time import sleep

from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.jobs.claims import claim, not_due
from consultroom.plugins.models import PluginEnablement
from consultroom.tenancy.models import Organisation
from consultroom.web.sites import site_request

log = logging.getLogger(__name__)


ATTEMPTS = 5
BACKOFF = 0.05  # seconds before the second attempt, doubled for each next one


def in_organisation(registry, subdomain, action, attempts=ATTEMPTS):
    """``action(request)`` in one transaction, for the organisation at ``subdomain``.

    A transaction refused for a concurrent one is run again a little later,
    with a new request, as pyramid_retry does for an HTTP request (up to
    ``attempts`` times); otherwise the job's run for the organisation would
    be lost until its next period. SQLite refuses a transaction that read and
    then writes while another connection is writing ("database is locked"),
    without waiting for it: the app processes write every
    ``realtime.presence_seconds`` (their open sockets' marks), and an
    attempt at once would fall in the same write. On PostgreSQL: a
    serialization failure or a deadlock."""
    attempt = 1
    while True:
        request = site_request(registry, subdomain)
        manager = request.tm
        manager.begin()
        try:
            if request.organisation is None:
                manager.abort()
                return None  # deleted meanwhile
            result = action(request)
            manager.commit()
            return result
        except Exception as exc:
            # Asked before the abort, which lets go of the data managers that
            # know their database's retryable errors (pyramid_tm does the same).
            retry = attempt < attempts and manager.get().isRetryableError(exc)
            manager.abort()
            if not retry:
                raise
            log.info("worker: a transaction for %s was refused (%s); again", subdomain, exc)
        sleep(BACKOFF * 2 ** (attempt - 1))
        attempt += 1


def organisations(registry):
    """``(id, subdomain, ids of the plugins it enabled)`` of every organisation."""
    with registry["dbmaker"]() as session:
        orgs = session.execute(
            select(Organisation.id, Organisation.subdomain).order_by(Organisation.id)
        )
        enabled = session.execute(
            select(PluginEnablement.organisation_id, PluginEnablement.plugin).where(
                PluginEnablement.enabled
            )
        )
        plugins = {}
        for organisation_id, plugin in enabled:
            plugins.setdefault(organisation_id, set()).add(plugin)
        return [(id_, subdomain, frozenset(plugins.get(id_, ()))) for id_, subdomain in orgs]


def jobs_for(registry, enabled_plugin_ids):
    """The ``WorkerJob``s of an organisation that enabled ``enabled_plugin_ids``:
    the core's and those plugins', through the tenant-scoped hook caller."""
    hooks = registry.plugins.hooks_for(enabled_plugin_ids)
    jobs = {}
    for declared in hooks.consultroom_worker_jobs():
        for job in declared or ():
            if job.name in jobs:
                log.error("two worker jobs are named %r: only the first runs", job.name)
            else:
                jobs[job.name] = job
    return list(jobs.values())


def run_due(registry, now=None):
    """One round: every job whose period has come, for every organisation.
    Returns how much each job did: a ``Counter`` by job name, in which a job
    that ran nowhere this round is missing (0)."""
    now = now or utcnow()
    waiting = not_due(registry, now)
    done = Counter()
    for organisation_id, subdomain, enabled in organisations(registry):
        for job in jobs_for(registry, enabled):
            if (job.name, organisation_id) in waiting:
                continue
            try:
                if claim(registry, job, organisation_id, now):
                    done[job.name] += in_organisation(registry, subdomain, job.run) or 0
            except Exception:
                log.exception("worker job %s failed for %s", job.name, subdomain)
    return done
