"""The portal's card on the client page (the ``client`` slot): the link to
copy, its QR code, and the actions of ``staff``."""

from pyramid.renderers import render

from consultroom.hookspecs import fills_slots, hookimpl
from consultroom.portal.staff import portal_url
from consultroom.web.qr import qr_code_svg


@hookimpl
@fills_slots("client")
def consultroom_template_slot(request, slot, context):
    if slot != "client" or not request.has_permission("staff"):
        return None
    client = context["client"]
    url = portal_url(request, client)
    values = {"client": client, "url": url, "qr_code": qr_code_svg(url)}
    return render("portal/_client_card.html", values, request=request)
