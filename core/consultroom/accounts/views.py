"""Staff pages: log in and out, set a password from an e-mailed link, the
profile, and staff management for organisation and department admins."""

from pyramid.httpexceptions import HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.accounts import forms, login_page, service
from consultroom.accounts.login import PASSWORD, login_method, start_staff_session
from consultroom.accounts.models import Role, User
from consultroom.accounts.navigation import safe_next
from consultroom.accounts.security import (
    can_manage_user,
    end_sessions,
    log_in,
    log_out,
    staff_from_url,
)
from consultroom.audit import changed_fields, record
from consultroom.i18n import _
from consultroom.ratelimit import (
    Attempt,
    Limit,
    TooManyTries,
    client_address,
    find_by_token,
    limits_from_settings,
)
from consultroom.tenancy.models import Department
from consultroom.web import ID, flash
from consultroom.web.forms import options
from consultroom.web.images import ImageRejected, fit_image, read_upload
from consultroom.web.sites import BOTH_SITES

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_BOX = (256, 256)


def _limits(request):
    s = request.registry.settings
    return {
        "account": limits_from_settings(s, "login_account", 5, 15),
        "address": limits_from_settings(s, "login_address", 20, 15),
        "link": limits_from_settings(s, "link_request", 5, 60),
    }


def _find_login_user(request, email):
    query = select(User).where(User.email == email)
    if request.site == "console":
        query = query.where(User.organisation_id.is_(None))
    else:
        query = query.where(User.organisation_id == request.organisation.id)
    return request.dbsession.scalar(query)


@view_config(route_name="login", renderer="login.html")
def login(request):
    if request.identity is not None:
        return HTTPFound(safe_next(request))
    if login_page.applies(request):
        kept = login_page.response(request, lambda: {"form": forms.LoginForm(request), "next": ""})
        if kept is not None:
            return kept
    form = forms.LoginForm(request)
    if request.method == "POST" and form.validate():
        limits = _limits(request)
        scope = request.organisation.id if request.organisation else "console"
        account = f"{scope}:{form.email.data}"
        attempt = Attempt(
            request, (limits["account"], account), (limits["address"], client_address(request))
        )
        if attempt.locked:
            form.add_error("email", Limit.message(attempt.locked))
            record(request, "login.blocked", email=form.email.data)
        else:
            user = _find_login_user(request, form.email.data)
            instead = login_method(request, form.email.data, user)
            if instead is not None:
                return _other_method(request, form, attempt, user, instead)
            if request.passwords.verify(user, form.password.data) and user.active:
                attempt.refund()
                limits["account"].clear(request, account)
                return start_staff_session(
                    request, user, PASSWORD, next_url=request.params.get("next")
                )
            record(
                request,
                "login.failure",
                "user" if user else None,
                user and user.id,
                email=form.email.data,
            )
            form.add_error("password", _("The e-mail address or the password is wrong."))
    return {"form": form, "next": request.params.get("next", "")}


def _other_method(request, form, attempt, user, instead):
    """A login provider's answer instead of the password (``LoginMethod``):
    off to its ``url``, or its message on the form (a try that counts)."""
    if instead.url:
        attempt.refund()  # sent on, not refused: staff behind one address are many
        return HTTPSeeOther(instead.url)
    record(
        request,
        "login.refused",
        "user" if user else None,
        user and user.id,
        method=PASSWORD,
        reason="login provider",
        email=form.email.data,
    )
    form.add_error("password", instead.message)
    return {"form": form, "next": request.params.get("next", "")}


@view_config(route_name="logout", request_method="POST")
def logout(request):
    if request.identity is not None:
        record(request, "logout", "user", request.identity.id)
    log_out(request)
    return HTTPSeeOther(request.route_path("login"))


@view_config(route_name="set_password", renderer="set_password.html")
def set_password(request):
    try:
        token = find_by_token(request, lambda: _redeemable_token(request))
    except TooManyTries as locked:
        return _invalid_link(request, locked=locked.remaining)
    if token is None:
        return _invalid_link(request)
    form = forms.SetPasswordForm(request)
    if request.method == "POST" and form.validate():
        user = token.user
        instead = login_method(request, user.email, user)
        if instead is not None and instead.url:
            return HTTPSeeOther(instead.url)
        if instead is not None:
            form.add_error("password", instead.message)
            return {"form": form, "account": user}
        service.set_password(request, user, form.password.data)
        end_sessions(request, user)
        # A reset link proves the mailbox, not the second factor.
        response = start_staff_session(request, user, "password_link")
        flash(request, _("Your password is set. Welcome!"), "success")
        return response
    # Not "user": that is the logged-in user, for whom the layout shows the menu.
    return {"form": form, "account": token.user}


def _redeemable_token(request):
    """The unused link token in the address, if it is for this site."""
    token = service.redeem_token(request.dbsession, request.matchdict["token"])
    return token if token is not None and _token_belongs_here(request, token.user) else None


def _token_belongs_here(request, user):
    if user.is_superuser:
        return request.site == "console"
    return request.organisation is not None and user.organisation_id == request.organisation.id


def _invalid_link(request, locked=None):
    """The "link no longer works" page; ``locked``: how long the address is
    locked out for trying too many."""
    minutes = Limit.minutes(locked) if locked else None
    response = render_to_response("link_invalid.html", {"minutes": minutes}, request=request)
    response.status = 429 if locked else 410
    return response


@view_config(route_name="new_link", renderer="new_link.html")
def new_link(request):
    form = forms.NewLinkForm(request)
    if request.method == "POST" and form.validate():
        limit = _limits(request)["link"]
        scope = request.organisation.id if request.organisation else "console"
        account = f"{scope}:{form.email.data}"
        # Every request counts, whether or not a link is sent.
        attempt = Attempt(request, (limit, client_address(request)), (limit, account))
        if attempt.locked:
            form.add_error(
                "email",
                _(
                    "Too many requests. Try again in ${minutes} minutes.",
                    mapping={"minutes": Limit.minutes(attempt.locked)},
                ),
            )
            return {"form": form, "sent": False}
        user = _find_login_user(request, form.email.data)
        if user is not None and user.active:
            service.send_link(request, user, "reset" if user.password_hash else "invite")
        # The same answer whether or not the address has an account.
        return {"form": form, "sent": True}
    return {"form": form, "sent": False}


def _department_choices(request, none_label=None):
    departments = request.dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == request.organisation.id)
        .order_by(Department.name)
    )
    choices = [(0, none_label or _("No department"))]
    return choices + [(d.id, d.name) for d in departments]


def _department_or_none(value):
    return value or None


def _profile_form(request, bind):
    user = request.identity
    form = forms.ProfileForm(request, bind, obj=user, department_id=user.department_id or 0)
    if user.role is Role.org_admin:
        form.department_id.choices = options(_department_choices(request))
    else:
        del form.department_id  # others are placed by an administrator
    return form


def _profile_page(form, password_form, user):
    return {"form": form, "password_form": password_form, "may_move": user.role is Role.org_admin}


@view_config(route_name="profile", renderer="profile.html", permission="staff")
def profile(request):
    user = request.identity
    form = _profile_form(request, bind=True)
    may_move = user.role is Role.org_admin
    if request.method == "POST" and form.validate():
        try:
            photo = read_upload(request.POST.get("photo"), PHOTO_MAX_BYTES)
            photo = fit_image(photo, PHOTO_BOX) if photo else None
        except ImageRejected as exc:
            form.add_error("photo", exc.args[0])
        else:
            user.name, user.phone, user.language = (
                form.name.data,
                form.phone.data,
                form.language.data,
            )
            if may_move:
                user.department_id = _department_or_none(form.department_id.data)
            if form.remove_photo.data:
                user.photo = None
            elif photo:
                user.photo = photo
            request.session["language"] = user.language
            flash(request, _("Your profile is saved."), "success")
            return HTTPSeeOther(request.route_path("profile"))
    return _profile_page(form, forms.ChangePasswordForm(request, bind=False), user)


@view_config(
    route_name="change_password", renderer="profile.html", permission="staff", request_method="POST"
)
def change_password(request):
    user = request.identity
    password_form = forms.ChangePasswordForm(request)
    if password_form.validate():
        if not request.passwords.verify(user, password_form.current.data):
            password_form.add_error("current", _("This is not your current password."))
        else:
            service.set_password(request, user, password_form.password.data)
            end_sessions(request, user)
            log_in(request, user)
            flash(request, _("Your password is changed."), "success")
            return HTTPSeeOther(request.route_path("profile"))
    return _profile_page(_profile_form(request, bind=False), password_form, user)


@view_config(route_name="staff_photo", permission="staff")
def staff_photo(request):
    user = staff_from_url(request)
    if not user.photo:
        raise HTTPNotFound()
    return Response(body=user.photo, content_type="image/png", cache_control="private, max-age=300")


def visible_staff(request):
    actor = request.identity
    query = select(User).where(User.organisation_id == request.organisation.id)
    if actor.role is not Role.org_admin:
        # Without a department, "== None" would list everyone not in one.
        query = query.where(
            User.department_id == actor.department_id, User.department_id.is_not(None)
        )
    return request.dbsession.scalars(query.order_by(User.name)).all()


@view_config(route_name="staff", renderer="staff_list.html", permission="department.manage")
def staff_list(request):
    actor = request.identity
    org = request.organisation
    return {
        "staff": visible_staff(request),
        "can_manage": lambda u: can_manage_user(actor, u),
        "count": service.staff_count(request.dbsession, org),
        "limit": org.max_users,
    }


def _staff_form(request, **kw):
    actor = request.identity
    form = forms.StaffForm(request, **kw)
    form.role.choices = forms.role_choices(actor.role)
    if actor.role is Role.org_admin:
        form.department_id.choices = options(_department_choices(request))
    else:
        # Department admins hire into their own department only.
        form.department_id.choices = options(
            (d, n) for d, n in _department_choices(request) if d == actor.department_id
        )
    return form


@view_config(route_name="staff_new", renderer="staff_form.html", permission="department.manage")
def staff_new(request):
    actor = request.identity
    form = _staff_form(request, department_id=actor.department_id or 0)
    del form.active
    if request.method == "POST" and form.validate():
        try:
            user = service.create_staff(
                request,
                request.organisation,
                name=form.name.data,
                email=form.email.data,
                role=Role(form.role.data),
                department_id=_department_or_none(form.department_id.data),
                phone=form.phone.data,
                language=form.language.data,
            )
        except service.AccountError as exc:
            form.add_error("email", exc.args[0])
        else:
            flash(
                request,
                _("${name} has been invited by e-mail.", mapping={"name": user.name}),
                "success",
            )
            return HTTPSeeOther(request.route_path("staff"))
    return {"form": form, "member": None}


@view_config(route_name="staff_edit", renderer="staff_form.html", permission="department.manage")
def staff_edit(request):
    actor = request.identity
    member = staff_from_url(request)
    if not can_manage_user(actor, member):
        raise HTTPNotFound()
    form = _staff_form(request, obj=member)
    if request.method == "POST" and form.validate():
        other = service.find_staff(request.dbsession, request.organisation, form.email.data)
        if other is not None and other.id != member.id:
            form.add_error("email", _("There is already a staff member with this e-mail address."))
        elif member.id == actor.id and (
            Role(form.role.data) is not actor.role or not form.active.data
        ):
            form.add_error("role", _("You cannot change your own role or deactivate yourself."))
        else:
            try:
                _apply_staff_form(request, member, form)
            except service.AccountError as exc:
                form.add_error("active", exc.args[0])
            else:
                flash(request, _("Saved."), "success")
                return HTTPSeeOther(request.route_path("staff"))
    return {"form": form, "member": member}


def _apply_staff_form(request, member, form):
    if form.active.data and not member.active:
        service.check_package_limit(request.dbsession, request.organisation)
    if not form.active.data and member.active:
        end_sessions(request, member)
    member.name, member.email, member.phone = form.name.data, form.email.data, form.phone.data
    member.role = Role(form.role.data)
    member.department_id = _department_or_none(form.department_id.data)
    member.language, member.active = form.language.data, form.active.data
    record(
        request,
        "staff.update",
        "user",
        member.id,
        changed=changed_fields(member),
        active=member.active,
    )


@view_config(route_name="staff_invite", permission="department.manage", request_method="POST")
def staff_invite(request):
    member = staff_from_url(request)
    if not can_manage_user(request.identity, member) or not member.active:
        raise HTTPNotFound()
    service.send_link(request, member, "reset" if member.password_hash else "invite")
    flash(
        request,
        _("A new link has been sent to ${email}.", mapping={"email": member.email}),
        "success",
    )
    return HTTPSeeOther(request.route_path("staff"))


def includeme(config):
    org = "organisation"
    config.add_route("login", "/login", site=BOTH_SITES)
    config.add_route("logout", "/logout", site=BOTH_SITES)
    config.add_route("set_password", "/set-password/{token}", site=BOTH_SITES)
    config.add_route("new_link", "/new-link", site=BOTH_SITES)
    config.add_route("profile", "/profile", site=org)
    config.add_route("change_password", "/profile/password", site=org)
    config.add_route("staff", "/staff", site=org)
    config.add_route("staff_new", "/staff/new", site=org)
    config.add_route("staff_edit", f"/staff/{ID}", site=org)
    config.add_route("staff_invite", f"/staff/{ID}/invite", site=org)
    config.add_route("staff_photo", f"/staff/{ID}/photo", site=org)
    config.scan(__name__)
