"""The two-factor feature's hook implementations: its part of the profile
page, and an administrator's switch on a staff member's page."""

from pyramid.renderers import render

from consultroom.hookspecs import fills_slots, hookimpl
from consultroom.twofactor import forms, service
from consultroom.twofactor.login import policy


@hookimpl
@fills_slots("profile", "staff_member")
def consultroom_template_slot(request, slot, context):
    if slot == "profile":
        return _profile(request, context["user"])
    if slot == "staff_member":
        return _staff_member(request, context["member"])
    return None


def _profile(request, user):
    enabled = service.is_enabled(request.dbsession, user)
    return render(
        "twofactor/_profile.html",
        {
            "enabled": enabled,
            "mode": policy(request),
            "codes_left": service.recovery_codes_left(request.dbsession, user) if enabled else 0,
            "codes_form": forms.AppCodeForm(request, bind=False),
            "disable_form": forms.DisableForm(request, bind=False),
        },
        request=request,
    )


def _staff_member(request, member):
    """Switching off a member's two-factor authentication (a lost phone),
    when it is on; never one's own: that needs a code or the password, on
    the profile page."""
    if member.id == request.identity.id or not service.is_enabled(request.dbsession, member):
        return None
    return render("twofactor/_staff_member.html", {"member": member}, request=request)
