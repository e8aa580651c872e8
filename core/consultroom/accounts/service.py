"""Staff account operations shared by the web pages, the console and the CLI."""

from datetime import timedelta

from sqlalchemy import func, select

from consultroom.accounts.models import STAFF_ROLES, User, UserToken, hash_token
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.web.sites import org_url


class AccountError(ValueError):
    """Carries a translation string for the user."""


def link_lifetime(request):
    return timedelta(hours=int(request.registry.settings.get("accounts.link_hours", 24)))


def staff_count(dbsession, organisation):
    return dbsession.scalar(
        select(func.count())
        .select_from(User)
        .where(User.organisation_id == organisation.id, User.active)
    )


def check_package_limit(dbsession, organisation):
    if staff_count(dbsession, organisation) >= organisation.max_users:
        raise AccountError(
            _(
                "Your package allows ${n} active staff members and all are in use."
                " Deactivate someone or ask your provider for a larger package.",
                mapping={"n": organisation.max_users},
            )
        )


def find_staff(dbsession, organisation, email):
    return dbsession.scalar(
        select(User).where(User.organisation_id == organisation.id, User.email == email)
    )


def create_staff(
    request,
    organisation,
    *,
    name,
    email,
    role,
    department_id=None,
    phone="",
    language="en",
    password=None,
):
    """Create a staff member and send an invitation (unless a password is
    given, as the CLI and the demo do)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"{role} is not a staff role")
    dbsession = request.dbsession
    check_package_limit(dbsession, organisation)
    if find_staff(dbsession, organisation, email) is not None:
        raise AccountError(_("There is already a staff member with this e-mail address."))
    user = User(
        organisation_id=organisation.id,
        name=name,
        email=email,
        role=role,
        department_id=department_id,
        phone=phone,
        language=language,
        password_hash=request.passwords.hash(password) if password else None,
    )
    dbsession.add(user)
    dbsession.flush()
    record(
        request,
        "staff.create",
        "user",
        user.id,
        organisation=organisation,
        role=role.value,
        department_id=department_id,
    )
    if password is None:
        send_link(request, user, "invite")
    request.hooks.consultroom_staff_created(request=request, user=user)
    return user


def send_link(request, user, purpose):
    """Mail a single-use set-password link ("invite" or "reset")."""
    lifetime = link_lifetime(request)
    token, secret = UserToken.issue(user, purpose, lifetime)
    request.dbsession.add(token)
    if user.organisation is not None:
        url = org_url(request, user.organisation, f"/set-password/{secret}")
    else:
        url = request.route_url("set_password", token=secret)
    template, subject = {
        "invite": ("invitation", _("You are invited to ${org}", mapping={"org": _org_name(user)})),
        "reset": (
            "password_link",
            _("Set a new password for ${org}", mapping={"org": _org_name(user)}),
        ),
    }[purpose]
    request.queue_mail(
        user.email,
        template,
        {"user": user, "url": url, "hours": int(lifetime.total_seconds() // 3600)},
        subject=subject,
        language=user.language,
    )
    return token


def _org_name(user):
    return user.organisation.name if user.organisation else "Consultroom"


def redeem_token(dbsession, secret):
    """The unused, unexpired token for ``secret``, or ``None``."""
    # Joined to its user, so that the organisation's scope hides another's tokens.
    token = dbsession.scalar(
        select(UserToken).join(UserToken.user).where(UserToken.token_hash == hash_token(secret))
    )
    if token is None or token.used_at is not None or token.expires_at < utcnow():
        return None
    if not token.user.active:
        return None
    return token


def set_password(request, user, password):
    """Set the password, end the user's sessions elsewhere and spend every
    outstanding link of the user. Log the current session in again after."""
    dbsession = request.dbsession
    user.password_hash = request.passwords.hash(password)
    user.session_generation += 1
    for token in dbsession.scalars(
        select(UserToken).where(UserToken.user_id == user.id, UserToken.used_at.is_(None))
    ):
        token.used_at = utcnow()
