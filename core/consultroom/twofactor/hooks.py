"""The two-factor feature's hook implementations: its part of the profile page."""

from pyramid.renderers import render

from consultroom.hookspecs import hookimpl
from consultroom.twofactor import forms, service
from consultroom.twofactor.login import policy


@hookimpl
def consultroom_template_slot(request, slot, context):
    if slot != "profile":
        return None
    user = context["user"]
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
