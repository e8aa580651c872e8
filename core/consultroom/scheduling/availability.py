"""Staff pages for availability: a practitioner manages their own blocks;
organisation admins everyone's and every department's, department admins
those of their department's practitioners and of their department.

A practitioner's block is for booking, walk-ins or both (its purpose); a
department's is for booking only (walk-in visitors choose a person), so
its form has no purpose. A change is told to the open walk-in widgets of
the organisation (``consultroom.realtime.walk_in_channel``)."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES, Role, User
from consultroom.accounts.security import can_manage_user
from consultroom.i18n import _
from consultroom.realtime import publish_after_commit, walk_in_changed
from consultroom.scheduling.forms import ONCE, PURPOSE_LABELS, WEEKDAYS, WEEKLY, BlockForm
from consultroom.scheduling.models import BOOKING, AvailabilityBlock
from consultroom.scheduling.service import blocks_query
from consultroom.scheduling.slots import slot_count
from consultroom.tenancy.models import Department
from consultroom.web import ID, flash


def _may_manage_department(actor, department):
    if actor.role is Role.org_admin:
        return True
    return actor.role is Role.dept_admin and actor.department_id == department.id


def _staff_member(request, user_id):
    """The staff member whose availability this is, if the actor may manage it."""
    user = request.dbsession.get(User, user_id)
    actor = request.identity
    if (
        user is None
        or user.organisation_id != request.organisation.id
        or user.role not in STAFF_ROLES
        or (user.id != actor.id and not can_manage_user(actor, user))
    ):
        raise HTTPNotFound()
    return user


def _department(request, department_id):
    dept = request.dbsession.get(Department, department_id)
    if (
        dept is None
        or dept.organisation_id != request.organisation.id
        or not _may_manage_department(request.identity, dept)
    ):
        raise HTTPNotFound()
    return dept


def _block(request):
    """The block in the URL and its owner (a staff member or a department),
    which the actor may manage; else 404. The owner is returned, not only
    checked: the session's identity map holds an object only while
    something else does, and the page reads it again."""
    block = request.dbsession.get(AvailabilityBlock, int(request.matchdict["id"]))
    if block is None or block.organisation_id != request.organisation.id:
        raise HTTPNotFound()
    if block.practitioner_id is not None:
        return block, _staff_member(request, block.practitioner_id)
    return block, _department(request, block.department_id)


def _owner_page(block_or_owner):
    """(route name, id) of the list page of a block's owner."""
    if isinstance(block_or_owner, AvailabilityBlock):
        if block_or_owner.practitioner_id is not None:
            return "availability_staff", block_or_owner.practitioner_id
        return "availability_department", block_or_owner.department_id
    if isinstance(block_or_owner, Department):
        return "availability_department", block_or_owner.id
    return "availability_staff", block_or_owner.id


def _tell_walk_in_widgets(request):
    """The walk-in widgets open now show the change once it is saved."""
    publish_after_commit(request, *walk_in_changed(request.organisation.id))


def _department_blocks_used(request):
    return request.organisation.options["strict_departments"]


@view_config(route_name="availability", renderer="scheduling/overview.html", permission="staff")
def overview(request):
    """Whose availability the actor can manage: their own, and as an admin
    their staff's and departments'."""
    actor = request.identity
    staff, departments = [], []
    if actor.role in (Role.org_admin, Role.dept_admin):
        query = select(User).where(
            User.organisation_id == request.organisation.id,
            User.role.in_(STAFF_ROLES),
            User.id != actor.id,
        )
        staff = [
            u
            for u in request.dbsession.scalars(query.order_by(User.name))
            if can_manage_user(actor, u)
        ]
        query = select(Department).where(Department.organisation_id == request.organisation.id)
        departments = [
            d
            for d in request.dbsession.scalars(query.order_by(Department.name))
            if _may_manage_department(actor, d)
        ]
    return {
        "staff": staff,
        "departments": departments,
        "department_blocks_used": _department_blocks_used(request),
    }


def _listing(request, owner, blocks, is_department):
    return {
        "owner": owner,
        "is_department": is_department,
        "blocks": blocks,
        "weekdays": WEEKDAYS,
        "slot_count": slot_count,
        "purposes": PURPOSE_LABELS,
        "department_blocks_used": _department_blocks_used(request),
        "new_url": request.route_path(_owner_page(owner)[0] + "_new", id=owner.id),
    }


def _ordered(request, **owner):
    query = blocks_query(request.organisation, **owner).order_by(
        AvailabilityBlock.on_date.is_not(None),
        AvailabilityBlock.weekday,
        AvailabilityBlock.on_date,
        AvailabilityBlock.start_time,
    )
    return request.dbsession.scalars(query).all()


@view_config(route_name="availability_staff", renderer="scheduling/blocks.html", permission="staff")
def staff_blocks(request):
    user = _staff_member(request, int(request.matchdict["id"]))
    return _listing(request, user, _ordered(request, practitioner=user), False)


@view_config(
    route_name="availability_department",
    renderer="scheduling/blocks.html",
    permission="department.manage",
)
def department_blocks(request):
    dept = _department(request, int(request.matchdict["id"]))
    return _listing(request, dept, _ordered(request, department=dept), True)


def _edit(request, block, owner):
    """Show and save the block form; the owner's list page after saving."""
    route, owner_id = _owner_page(owner)
    kind = WEEKLY if block.id is None or block.weekday is not None else ONCE
    form = BlockForm(request, obj=block, kind=kind)
    if block.department_id is not None:
        del form.purpose  # a department's time is for booking only
    if request.method == "POST" and form.check():
        form.apply(block)
        request.dbsession.add(block)
        _tell_walk_in_widgets(request)
        flash(request, _("The availability is saved."), "success")
        return HTTPSeeOther(request.route_path(route, id=owner_id))
    return {
        "form": form,
        "block": block,
        "owner": owner,
        "back": request.route_path(route, id=owner_id),
    }


@view_config(
    route_name="availability_staff_new", renderer="scheduling/block_form.html", permission="staff"
)
def staff_block_new(request):
    user = _staff_member(request, int(request.matchdict["id"]))
    block = AvailabilityBlock(
        organisation_id=request.organisation.id,
        practitioner_id=user.id,
        slot_minutes=20,
        gap_minutes=10,
        purpose=BOOKING,  # walk-in time is chosen on purpose
    )
    return _edit(request, block, user)


@view_config(
    route_name="availability_department_new",
    renderer="scheduling/block_form.html",
    permission="department.manage",
)
def department_block_new(request):
    dept = _department(request, int(request.matchdict["id"]))
    if not _department_blocks_used(request):
        flash(
            request,
            _("Department availability needs strictly segregated departments (advanced settings)."),
            "error",
        )
        return HTTPSeeOther(request.route_path("availability_department", id=dept.id))
    block = AvailabilityBlock(
        organisation_id=request.organisation.id,
        department_id=dept.id,
        slot_minutes=20,
        gap_minutes=10,
        purpose=BOOKING,
    )
    return _edit(request, block, dept)


@view_config(
    route_name="availability_block", renderer="scheduling/block_form.html", permission="staff"
)
def block_edit(request):
    return _edit(request, *_block(request))


@view_config(route_name="availability_block_delete", permission="staff", request_method="POST")
def block_delete(request):
    block, _owner = _block(request)
    route, owner_id = _owner_page(block)
    request.dbsession.delete(block)
    _tell_walk_in_widgets(request)
    flash(request, _("The availability is deleted."), "success")
    return HTTPSeeOther(request.route_path(route, id=owner_id))


def includeme(config):
    org = "organisation"
    config.add_route("availability", "/availability", site=org)
    config.add_route("availability_staff", f"/availability/staff/{ID}", site=org)
    config.add_route("availability_staff_new", f"/availability/staff/{ID}/new", site=org)
    config.add_route("availability_department", f"/availability/departments/{ID}", site=org)
    config.add_route("availability_department_new", f"/availability/departments/{ID}/new", site=org)
    config.add_route("availability_block", f"/availability/blocks/{ID}", site=org)
    config.add_route("availability_block_delete", f"/availability/blocks/{ID}/delete", site=org)
    config.scan(__name__)
