"""The department's arrival e-mail: an address a department chose (a
shared inbox, a pager's mail gateway) hears of each client arriving in its
waiting room, through the outbox after the arrival commits. Like the push
message, it says that someone waits, not who."""

from consultroom.accounts.models import User
from consultroom.i18n import _
from consultroom.mail import queue_mail
from consultroom.tenancy.models import Department
from consultroom.web.sites import org_url


def _department(request, appointment):
    """The appointment's department, else its practitioner's."""
    department_id = appointment.department_id
    if department_id is None and appointment.practitioner_id:
        department_id = request.dbsession.get(User, appointment.practitioner_id).department_id
    return request.dbsession.get(Department, department_id) if department_id else None


def arrived(request, appointment):
    department = _department(request, appointment)
    if department is None or not department.arrival_email:
        return
    organisation = request.organisation
    queue_mail(
        request,
        department.arrival_email,
        "arrival",
        {
            "department": department,
            "organisation": organisation,
            "url": org_url(request, organisation, "/waiting-room"),
        },
        _("A client is waiting"),
        organisation.language,
        ref=f"appointment:{appointment.id}",
    )
