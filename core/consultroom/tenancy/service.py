"""Creating organisations, shared by the console, the CLI and the demo; and
sealing the secret settings stored before secrets were encrypted."""

import re

from sqlalchemy import select

from consultroom.i18n import _
from consultroom.tenancy.models import Department, Organisation
from consultroom.tenancy.options import ADVANCED_SETTINGS

SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED = {"www", "api", "admin", "console", "static", "mail", "smtp", "ftp"}


# Other features' uses of subdomains (web page sets): callables
# ``(dbsession, subdomain) -> bool``, registered by their includeme.
_CLAIMS = []


class OrganisationError(ValueError):
    """Carries a translation string for the user."""


def claim_subdomains(in_use):
    """Have ``in_use(dbsession, subdomain)`` say whether a feature above
    tenancy uses a subdomain a new organisation must not take."""
    if in_use not in _CLAIMS:
        _CLAIMS.append(in_use)


def subdomain_shape_problem(subdomain, reserved=RESERVED):
    """Why ``subdomain`` cannot be a DNS label of ours (its form, or a
    ``reserved`` name), or None; whether it is taken is not asked."""
    if not SUBDOMAIN.match(subdomain or ""):
        return _(
            "Use 1 to 63 lowercase letters, digits and hyphens, not starting or"
            " ending with a hyphen."
        )
    if subdomain in reserved:
        return _("This subdomain is reserved.")
    return None


def subdomain_problem(dbsession, subdomain):
    problem = subdomain_shape_problem(subdomain)
    if problem:
        return problem
    if dbsession.scalar(select(Organisation.id).where(Organisation.subdomain == subdomain)) or any(
        in_use(dbsession, subdomain) for in_use in _CLAIMS
    ):
        return _("This subdomain is already taken.")
    return None


def create_organisation(dbsession, *, name, subdomain, max_users=10, departments=()):
    problem = subdomain_problem(dbsession, subdomain)
    if problem:
        raise OrganisationError(problem)
    org = Organisation(name=name, subdomain=subdomain, max_users=max_users)
    dbsession.add(org)
    dbsession.flush()
    for dept_name in departments:
        dbsession.add(Department(organisation_id=org.id, name=dept_name))
    dbsession.flush()
    return org


def by_subdomain(dbsession, subdomain):
    return dbsession.scalar(select(Organisation).where(Organisation.subdomain == subdomain))


def seal_stored_secrets(dbsession, box):
    """Encrypt with ``box`` every organisation's secret settings stored
    before secrets were: the subdomains of the organisations changed."""
    changed = []
    for org in dbsession.scalars(select(Organisation).order_by(Organisation.subdomain)):
        sealed = ADVANCED_SETTINGS.sealed(org.settings or {}, box)
        if sealed is not None:
            org.settings = sealed
            changed.append(org.subdomain)
    return changed
