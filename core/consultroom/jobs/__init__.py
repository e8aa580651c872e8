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

from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.jobs.claims import claim, not_due
from consultroom.plugins.models import PluginEnablement
from consultroom.tenancy.models import Organisation
from consultroom.web.sites import site_request

log = logging.getLogger(__name__)


def in_organisation(registry, subdomain, action):
    """``action(request)`` in one transaction, for the organisation at ``subdomain``."""
    request = site_request(registry, subdomain)
    with request.tm:
        if request.organisation is None:
            return None  # deleted meanwhile
        return action(request)


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
