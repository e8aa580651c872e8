"""Scheduled jobs run by ``consultroom worker``: reminders, anonymisation.

Each job works per organisation, through a request for the organisation's
site (as the command line builds one), in short transactions: one to find
the work, then one per piece of work, which first claims its rows with a
conditional UPDATE. A row another worker claimed first updates nothing and
is left alone, so any number of workers can run at once.
"""

import logging

from sqlalchemy import select

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


def subdomains(registry):
    with registry["dbmaker"]() as session:
        return list(session.scalars(select(Organisation.subdomain).order_by(Organisation.id)))


def for_each_organisation(registry, job):
    """``job(registry, subdomain)`` for every organisation, summed; one
    organisation's failure is logged and does not stop the others."""
    done = 0
    for subdomain in subdomains(registry):
        try:
            done += job(registry, subdomain)
        except Exception:
            log.exception("scheduled job failed for %s", subdomain)
    return done


def run_due(registry, now=None):
    """One round of every job: how much each did."""
    from consultroom.jobs import anonymise, reminders

    return {
        "reminders": for_each_organisation(registry, lambda r, s: reminders.run(r, s, now)),
        "anonymised": for_each_organisation(registry, lambda r, s: anonymise.run(r, s, now)),
    }
