"""Staff pages for clients: list and search, detail, new, edit, delete and
CSV export. Every client query starts from ``clients.access`` so that the
segregation settings hold on every page. What other features hold about a
client comes through hooks: their sections of the client page (the
``client`` slot) and their reasons not to delete one."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import STAFF_ROLES, Role, User
from consultroom.audit import changed_fields, record
from consultroom.clients.access import client_or_404, visible_clients
from consultroom.clients.erasure import erase_client
from consultroom.clients.forms import ClientForm
from consultroom.clients.models import Client
from consultroom.clients.numbers import number_taken
from consultroom.clients.picker import answer, matching
from consultroom.clients.search import search_clients
from consultroom.i18n import _
from consultroom.tenancy.models import Department
from consultroom.web import ID, flash
from consultroom.web.forms import options
from consultroom.web.listing import csv_bytes, page_number, paginate

EXPORT_HEADER = (
    _("Client number"),
    _("Initials"),
    _("Last name"),
    _("Date of birth"),
    _("E-mail address"),
    _("Phone"),
    _("Language"),
    _("Departments"),
    _("Practitioners"),
)


def book_url(client):
    """The appointments feature's "new appointment" page, for this client."""
    return f"/appointments/new?client={client.id}"


def consult_url(client):
    """Where the room feature starts a quick consultation with this client (a POST)."""
    return f"/clients/{client.id}/consult"


def _found_clients(request):
    """The visible clients matching the search box, in name order."""
    query = visible_clients(request).options(
        selectinload(Client.departments), selectinload(Client.practitioners)
    )
    # lower(): the same order on every database, whatever its collation.
    return search_clients(request.dbsession, query, request.params.get("q")).order_by(
        func.lower(Client.last_name), func.lower(Client.initials), Client.id
    )


@view_config(route_name="clients", renderer="clients/list.html", permission="staff")
def client_list(request):
    page = paginate(request.dbsession, _found_clients(request), page_number(request))
    # Which clients were shown, not what was searched for (that may be a name).
    record(
        request,
        "client.list",
        "client",
        ids=[c.id for c in page.items],
        searched=bool(request.params.get("q")),
        page=page.number,
    )
    return {
        "page": page,
        "q": request.params.get("q", ""),
        "book_url": book_url,
        "consult_url": consult_url,
    }


@view_config(route_name="client_picker", renderer="json", permission="staff", request_method="GET")
def client_picker(request):
    """The clients offered as a client field's text is typed (static/js/picker.js):
    a read, so a GET; the same clients the list would show."""
    return answer(request, matching, "client")


@view_config(route_name="client_export", permission="staff")
def client_export(request):
    clients = request.dbsession.scalars(_found_clients(request)).all()
    record(
        request,
        "client.export",
        "client",
        ids=[c.id for c in clients],
        searched=bool(request.params.get("q")),
    )
    rows = (
        [
            c.client_number,
            c.initials,
            c.last_name,
            c.date_of_birth.isoformat() if c.date_of_birth else "",
            c.email,
            c.phone,
            c.language,
            "; ".join(d.name for d in c.departments),
            "; ".join(p.name for p in c.practitioners),
        ]
        for c in clients
    )
    t = request.localizer.translate
    response = Response(
        body=csv_bytes([t(h) for h in EXPORT_HEADER], rows),
        content_type="text/csv",
        charset="utf-8",
    )
    response.content_disposition = 'attachment; filename="clients.csv"'
    response.cache_control = "no-store"  # personal data: not for caches
    return response


@view_config(route_name="client", renderer="clients/detail.html", permission="staff")
def client_detail(request):
    client = client_or_404(request, int(request.matchdict["id"]))
    record(request, "client.read", "client", client.id)
    return {"client": client, "book_url": book_url(client)}


# ---- the form


def _department_choices(request):
    return request.dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == request.organisation.id)
        .order_by(Department.name)
    ).all()


def _practitioner_choices(request, client):
    """Active staff, plus anyone already assigned (kept on saving even when
    they have been deactivated since)."""
    staff = request.dbsession.scalars(
        select(User)
        .where(
            User.organisation_id == request.organisation.id,
            User.role.in_(STAFF_ROLES),
            User.active.is_(True),
        )
        .order_by(User.name)
    ).all()
    assigned = client.practitioners if client is not None else []
    return staff + [u for u in assigned if u not in staff]


def _client_form(request, client):
    actor = request.identity
    if client is None:
        # A staff member's new client is theirs and their department's by default.
        initial = {
            "language": request.organisation.language,
            "department_ids": [actor.department_id] if actor.department_id else [],
            "practitioner_ids": [actor.id] if actor.role is Role.practitioner else [],
        }
    else:
        initial = {
            "department_ids": [d.id for d in client.departments],
            "practitioner_ids": [u.id for u in client.practitioners],
        }
    form = ClientForm(request, obj=client, **initial)
    departments = _department_choices(request)
    practitioners = _practitioner_choices(request, client)
    form.department_ids.choices = options((d.id, d.name) for d in departments)
    form.practitioner_ids.choices = options((u.id, u.name) for u in practitioners)
    return form, {d.id: d for d in departments}, {u.id: u for u in practitioners}


def _keeps_actor_in_sight(request, form, is_new):
    """Under strict segregation the actor must still see the client after
    saving it; a new client of a practitioner becomes theirs. Returns
    False (with the problem on the form) when they would lose it."""
    actor, settings = request.identity, request.organisation.options
    if actor.role is Role.org_admin:
        return True
    ok = True
    if settings["strict_departments"]:
        if actor.department_id is None:
            form.add_error(
                "department_ids",
                _(
                    "You are in no department, so you could not see this client. Ask an"
                    " administrator to place you in a department."
                ),
            )
            ok = False
        elif actor.department_id not in form.department_ids.data:
            form.add_error(
                "department_ids",
                _(
                    "Keep your own department among the client's departments: otherwise you"
                    " could no longer see this client."
                ),
            )
            ok = False
    if settings["strict_clients"] and actor.role is Role.practitioner:
        if is_new and actor.id not in form.practitioner_ids.data:
            form.practitioner_ids.data.append(actor.id)
        elif actor.id not in form.practitioner_ids.data:
            form.add_error(
                "practitioner_ids",
                _(
                    "Keep yourself among the client's practitioners: otherwise you could no"
                    " longer see this client."
                ),
            )
            ok = False
    return ok


def _save_client(request, client, form, departments, practitioners):
    action = "client.create" if client.id is None else "client.update"
    form.apply_to(client)
    client.departments = [departments[i] for i in form.department_ids.data]
    client.practitioners = [practitioners[i] for i in form.practitioner_ids.data]
    changed = changed_fields(client)
    request.dbsession.add(client)
    request.dbsession.flush()
    record(request, action, "client", client.id, changed=changed)
    flash(request, _("${name} is saved.", mapping={"name": client.display_name}), "success")
    return HTTPSeeOther(request.route_path("client", id=client.id))


def _number_is_free(request, form, client):
    """False (with the problem on the form) when another client in one of
    the chosen departments has this client number (``clients.numbers``)."""
    problem = number_taken(request, form.client_number.data, form.department_ids.data, client)
    if problem:
        form.add_error("client_number", problem)
    return problem is None


def _client_form_page(request, client):
    form, departments, practitioners = _client_form(request, client)
    if (
        request.method == "POST"
        and form.validate()
        and _keeps_actor_in_sight(request, form, is_new=client is None)
        and _number_is_free(request, form, client)
    ):
        new = Client(organisation_id=request.organisation.id) if client is None else client
        return _save_client(request, new, form, departments, practitioners)
    return {"form": form, "client": client}


@view_config(route_name="client_new", renderer="clients/form.html", permission="staff")
def client_new(request):
    return _client_form_page(request, None)


@view_config(route_name="client_edit", renderer="clients/form.html", permission="staff")
def client_edit(request):
    client = client_or_404(request, int(request.matchdict["id"]))
    if request.method == "GET":
        record(request, "client.read", "client", client.id, page="edit")
    return _client_form_page(request, client)


@view_config(route_name="client_delete", permission="staff", request_method="POST")
def client_delete(request):
    client = client_or_404(request, int(request.matchdict["id"]))
    reasons = [
        reason
        for result in request.hooks.consultroom_client_delete_blockers(
            request=request, client=client
        )
        for reason in (result or [])
    ]
    if reasons:
        for reason in reasons:
            flash(request, reason, "error")
        return HTTPSeeOther(request.route_path("client", id=client.id))
    erase_client(request, client)
    flash(request, _("${name} is deleted.", mapping={"name": client.display_name}), "success")
    return HTTPSeeOther(request.route_path("clients"))


def includeme(config):
    org = "organisation"
    config.add_route("clients", "/clients", site=org)
    config.add_route("client_new", "/clients/new", site=org)
    config.add_route("client_export", "/clients/export.csv", site=org)
    config.add_route("client_picker", "/clients/picker", site=org)
    config.add_route("client", f"/clients/{ID}", site=org)
    config.add_route("client_edit", f"/clients/{ID}/edit", site=org)
    config.add_route("client_delete", f"/clients/{ID}/delete", site=org)
    config.scan(__name__)
