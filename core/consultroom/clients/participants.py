"""Staff pages for groups ("Family", "Home care") and the external
participants in them. Both belong to the whole organisation: every staff
member may see them; groups are managed by department and organisation
admins, participants by any staff member."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from consultroom.audit import changed_fields, record
from consultroom.clients.forms import GroupForm, ParticipantForm
from consultroom.clients.models import Group, Participant
from consultroom.clients.picker import answer, matching_participants
from consultroom.clients.search import search_participants
from consultroom.i18n import _
from consultroom.web import ID, flash
from consultroom.web.forms import options
from consultroom.web.listing import page_number, paginate


def _of_organisation(request, model):
    """The ``model`` row in the URL if it is the organisation's; else 404."""
    row = request.dbsession.scalar(
        select(model).where(
            model.id == int(request.matchdict["id"]),
            model.organisation_id == request.organisation.id,
        )
    )
    if row is None:
        raise HTTPNotFound()
    return row


def _groups(request):
    return request.dbsession.scalars(
        select(Group)
        .where(Group.organisation_id == request.organisation.id)
        .options(selectinload(Group.participants))
        .order_by(Group.name)
    ).all()


# ---- groups


@view_config(route_name="groups", renderer="clients/groups.html", permission="staff")
def group_list(request):
    return {"groups": _groups(request), "can_manage": request.has_permission("department.manage")}


def _saved(request, group, name):
    """Rename or add ``group``; False when the organisation has another group
    of that name. The unique constraint decides, so that two people saving
    the same name at once cannot both succeed (nor get an error page)."""
    action = "group.create" if group.id is None else "group.update"
    try:
        with request.dbsession.begin_nested():
            group.name = name
            request.dbsession.add(group)
            request.dbsession.flush()
    except IntegrityError:
        return False
    record(request, action, "group", group.id, name=name)
    return True


def _group_form_page(request, group):
    form = GroupForm(request, obj=group)
    if request.method == "POST" and form.validate():
        if _saved(request, group, form.name.data):
            flash(request, _("${name} is saved.", mapping={"name": group.name}), "success")
            return HTTPSeeOther(request.route_path("groups"))
        else:
            form.add_error("name", _("There is already a group with this name."))
    return {"form": form, "group": group if group.id is not None else None}


@view_config(
    route_name="group_new", renderer="clients/group_form.html", permission="department.manage"
)
def group_new(request):
    return _group_form_page(request, Group(organisation_id=request.organisation.id))


@view_config(
    route_name="group_edit", renderer="clients/group_form.html", permission="department.manage"
)
def group_edit(request):
    return _group_form_page(request, _of_organisation(request, Group))


@view_config(route_name="group_delete", permission="department.manage", request_method="POST")
def group_delete(request):
    group = _of_organisation(request, Group)
    record(request, "group.delete", "group", group.id, name=group.name)
    request.dbsession.delete(group)  # its participants stay, in their other groups
    flash(request, _("${name} is deleted.", mapping={"name": group.name}), "success")
    return HTTPSeeOther(request.route_path("groups"))


# ---- participants


@view_config(route_name="participants", renderer="clients/participants.html", permission="staff")
def participant_list(request):
    query = select(Participant).where(Participant.organisation_id == request.organisation.id)
    query = search_participants(
        query.options(selectinload(Participant.groups)), request.params.get("q")
    ).order_by(func.lower(Participant.last_name), func.lower(Participant.initials), Participant.id)
    page = paginate(request.dbsession, query, page_number(request))
    record(
        request,
        "participant.list",
        "participant",
        ids=[p.id for p in page.items],
        searched=bool(request.params.get("q")),
        page=page.number,
    )
    return {"page": page, "q": request.params.get("q", "")}


@view_config(
    route_name="participant_picker", renderer="json", permission="staff", request_method="GET"
)
def participant_picker(request):
    """The participants offered as a participants field's text is typed."""
    return answer(request, matching_participants, "participant")


def _participant_form_page(request, participant):
    is_new = participant.id is None
    initial = (
        {"language": request.organisation.language, "group_ids": []}
        if is_new
        else {"group_ids": [g.id for g in participant.groups]}
    )
    form = ParticipantForm(request, obj=None if is_new else participant, **initial)
    groups = {g.id: g for g in _groups(request)}
    form.group_ids.choices = options((g.id, g.name) for g in groups.values())
    if request.method == "POST" and form.validate():
        form.apply_to(participant)
        participant.groups = [groups[i] for i in form.group_ids.data]
        changed = changed_fields(participant)
        request.dbsession.add(participant)
        request.dbsession.flush()
        record(
            request,
            "participant.create" if is_new else "participant.update",
            "participant",
            participant.id,
            changed=changed,
        )
        flash(
            request, _("${name} is saved.", mapping={"name": participant.display_name}), "success"
        )
        return HTTPSeeOther(request.route_path("participants"))
    return {"form": form, "participant": None if is_new else participant}


@view_config(
    route_name="participant_new", renderer="clients/participant_form.html", permission="staff"
)
def participant_new(request):
    return _participant_form_page(request, Participant(organisation_id=request.organisation.id))


@view_config(
    route_name="participant_edit", renderer="clients/participant_form.html", permission="staff"
)
def participant_edit(request):
    participant = _of_organisation(request, Participant)
    if request.method == "GET":
        record(request, "participant.read", "participant", participant.id)
    return _participant_form_page(request, participant)


@view_config(route_name="participant_delete", permission="staff", request_method="POST")
def participant_delete(request):
    participant = _of_organisation(request, Participant)
    record(request, "participant.delete", "participant", participant.id)
    request.dbsession.delete(participant)
    flash(request, _("${name} is deleted.", mapping={"name": participant.display_name}), "success")
    return HTTPSeeOther(request.route_path("participants"))


def includeme(config):
    org = "organisation"
    config.add_route("groups", "/groups", site=org)
    config.add_route("group_new", "/groups/new", site=org)
    config.add_route("group_edit", f"/groups/{ID}", site=org)
    config.add_route("group_delete", f"/groups/{ID}/delete", site=org)
    config.add_route("participants", "/participants", site=org)
    config.add_route("participant_new", "/participants/new", site=org)
    config.add_route("participant_picker", "/participants/picker", site=org)
    config.add_route("participant_edit", f"/participants/{ID}", site=org)
    config.add_route("participant_delete", f"/participants/{ID}/delete", site=org)
    config.scan(__name__)
