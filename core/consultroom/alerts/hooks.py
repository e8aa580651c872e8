"""Arrival notifications: sent when a client arrives (the core's own
``consultroom_client_arrived``): web push to staff devices, and the
department's arrival e-mail; and the push switch on the profile page."""

from pyramid.renderers import render

from consultroom.alerts import email, push
from consultroom.alerts.keys import application_server_key
from consultroom.hookspecs import fills_slots, hookimpl


@hookimpl
def consultroom_client_arrived(request, appointment):
    push.arrived(request, appointment)
    email.arrived(request, appointment)


@hookimpl
@fills_slots("profile")
def consultroom_template_slot(request, slot, context):
    if slot != "profile" or request.organisation is None:
        return None
    values = {"server_key": application_server_key(request)}
    return render("alerts/_profile.html", values, request=request)
