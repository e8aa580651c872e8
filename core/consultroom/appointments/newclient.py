"""A new client made on the new-appointment form ("New client" instead of
choosing one): the person fields of the client form under the ``new_client-``
prefix, checked with the appointment's fields, and stored in the same
savepoint as the appointment, so that nothing is saved when either is
refused.

Where the client belongs follows the segregation settings: the creator's
department and, for a practitioner, the creator; and the appointment's
practitioner and department (or the practitioner's department), so that
whoever the appointment is with can see its client."""

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.clients.forms import PersonForm
from consultroom.clients.models import Client
from consultroom.clients.numbers import number_taken
from consultroom.i18n import _

PREFIX = "new_client-"

NO_DEPARTMENT = _(
    "You are in no department, so you could not see this client. Ask an"
    " administrator to place you in a department."
)


class NewClientForm(PersonForm):
    """The inline new client's fields."""


def new_client_form(request):
    return NewClientForm(request, prefix=PREFIX, language=request.organisation.language)


def placement(request, practitioner, department):
    """``(departments, practitioners)`` of a client made by the logged-in
    staff member for an appointment with ``practitioner`` or ``department``."""
    actor = request.identity
    departments = [actor.department, department]
    if practitioner is not None:
        departments.append(practitioner.department)
    practitioners = [actor if actor.role is Role.practitioner else None, practitioner]
    return (
        list({d.id: d for d in departments if d is not None}.values()),
        list({u.id: u for u in practitioners if u is not None}.values()),
    )


def refused(request, form, appointment_form, departments):
    """Whether the new client cannot be made (the problems on the forms):
    a creator who could not see it, or a client number already taken."""
    actor = request.identity
    if (
        request.organisation.options["strict_departments"]
        and actor.role is not Role.org_admin
        and actor.department_id is None
    ):
        appointment_form.add_error("new_client", NO_DEPARTMENT)
        return True
    problem = number_taken(request, form.client_number.data, [d.id for d in departments])
    if problem:
        form.add_error("client_number", problem)
        return True
    return False


def add_client(request, form, departments, practitioners):
    """The new client, stored (flushed) in the caller's savepoint; recorded
    by ``recorded`` once the appointment is stored too."""
    client = Client(organisation_id=request.organisation.id)
    form.apply_to(client)
    client.departments = departments
    client.practitioners = practitioners
    request.dbsession.add(client)
    request.dbsession.flush()
    return client


def recorded(request, client):
    record(request, "client.create", "client", client.id, page="appointment")
