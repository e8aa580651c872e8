"""The set-up checklist an organisation admin sees on the dashboard while
the organisation is new: each step stays until it is done (a department,
a second staff member, availability, e-mail templates, a widget or an
embedding site), and the list goes once every step is done."""

from dataclasses import dataclass

from sqlalchemy import exists, func, select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.clientmail.models import TemplateSet
from consultroom.i18n import _
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department
from consultroom.widgets.models import WalkInWidget


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    help: str
    route: str


STEPS = (
    Step(
        "departments",
        _("Add your departments"),
        _("Departments group staff, appointments and waiting lists."),
        "departments",
    ),
    Step(
        "staff",
        _("Invite your staff"),
        _("Each practitioner gets their own login and waiting list."),
        "staff",
    ),
    Step(
        "availability",
        _("Set the availability"),
        _("The times clients can book through the booking widget."),
        "availability",
    ),
    Step(
        "templates",
        _("Write your e-mail templates"),
        _("The invitation, reminder and other e-mails in your own words."),
        "mail_templates",
    ),
    Step(
        "widgets",
        _("Put the widgets on your website"),
        _("The booking and walk-in widgets, and the sites that may show them."),
        "widgets",
    ),
)


def _has(dbsession, model, organisation_id):
    return dbsession.scalar(select(exists().where(model.organisation_id == organisation_id)))


def done_steps(dbsession, organisation):
    """The keys of the steps this organisation has done."""
    org_id = organisation.id
    staff = dbsession.scalar(
        select(func.count(User.id)).where(
            User.organisation_id == org_id, User.role.in_(STAFF_ROLES)
        )
    )
    done = {
        "departments": _has(dbsession, Department, org_id),
        "staff": staff > 1,
        "availability": _has(dbsession, AvailabilityBlock, org_id),
        "templates": _has(dbsession, TemplateSet, org_id),
        "widgets": bool(organisation.embed_origins) or _has(dbsession, WalkInWidget, org_id),
    }
    return {key for key, yes in done.items() if yes}


def open_steps(request):
    """The steps still to do, for an organisation admin; none for others."""
    if not request.has_permission("organisation.manage"):
        return []
    done = done_steps(request.dbsession, request.organisation)
    return [step for step in STEPS if step.key not in done]
