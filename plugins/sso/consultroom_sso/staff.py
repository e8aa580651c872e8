"""An organisation admin links a staff member to a connection (by the
provider's subject: the NameID, or OpenID Connect's ``sub``) or undoes a
link, on the staff member's page; the staff member links themselves from
their profile (``views.link``)."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import delete, select
from zope.sqlalchemy import mark_changed

from consultroom.accounts.security import staff_from_url
from consultroom.audit import record
from consultroom.web import ID, flash
from consultroom.web.inputs import CONTROL
from consultroom_sso.connections import MANAGE
from consultroom_sso.i18n import _
from consultroom_sso.models import Connection, Identity


def _posted_connection(request):
    value = request.POST.get("connection", "")
    connection = None
    if value.isdigit() and len(value) <= 9:
        connection = request.dbsession.scalar(
            select(Connection).where(
                Connection.id == int(value), Connection.organisation_id == request.organisation.id
            )
        )
    if connection is None:
        raise HTTPNotFound()
    return connection


def identities_of(request, member):
    """The member's links: {connection id: subject}."""
    rows = request.dbsession.execute(
        select(Identity.connection_id, Identity.subject).where(
            Identity.organisation_id == request.organisation.id, Identity.user_id == member.id
        )
    )
    return dict(rows.all())


def _back(request, member):
    return HTTPSeeOther(request.route_path("staff_edit", id=member.id))


@view_config(route_name="sso.staff_link", request_method="POST", permission=MANAGE)
def staff_link(request):
    member, connection = staff_from_url(request), _posted_connection(request)
    subject = request.POST.get("subject", "").strip()
    problem = None
    if not 0 < len(subject) <= 255 or CONTROL.search(subject):
        problem = _("Enter the staff member's subject at the provider (at most 255 characters).")
    elif connection.id in identities_of(request, member):
        problem = _(
            "This staff member is linked to ${name} already.", mapping={"name": connection.name}
        )
    elif request.dbsession.scalar(
        select(Identity.id).where(
            Identity.connection_id == connection.id, Identity.subject == subject
        )
    ):
        problem = _("This subject is linked to another staff member.")
    if problem is not None:
        flash(request, problem, "error")
        return _back(request, member)
    request.dbsession.add(
        Identity(
            organisation_id=request.organisation.id,
            connection_id=connection.id,
            subject=subject,
            user_id=member.id,
        )
    )
    record(request, "sso.linked", "user", member.id, connection=connection.id, by_admin=True)
    flash(request, _("Linked to ${name}.", mapping={"name": connection.name}))
    return _back(request, member)


@view_config(route_name="sso.staff_unlink", request_method="POST", permission=MANAGE)
def staff_unlink(request):
    member, connection = staff_from_url(request), _posted_connection(request)
    removed = request.dbsession.execute(
        delete(Identity).where(
            Identity.organisation_id == request.organisation.id,
            Identity.connection_id == connection.id,
            Identity.user_id == member.id,
        )
    ).rowcount
    mark_changed(request.dbsession)
    if removed:
        record(request, "sso.unlinked", "user", member.id, connection=connection.id)
        flash(request, _("No longer linked to ${name}.", mapping={"name": connection.name}))
    return _back(request, member)


def includeme(config):
    config.add_plugin_route("sso.staff_link", f"/sso/staff/{ID}/link")
    config.add_plugin_route("sso.staff_unlink", f"/sso/staff/{ID}/unlink")
    config.scan(".staff")
