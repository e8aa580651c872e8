"""The media library of the web pages: an organisation admin uploads images
(checked and re-encoded like every image upload), sees them and deletes
those no page set uses."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from consultroom.audit import record
from consultroom.i18n import _
from consultroom.web import ID, flash
from consultroom.web.images import ImageRejected
from consultroom.webpages.forms import ImageForm
from consultroom.webpages.models import WebImage
from consultroom.webpages.service import by_name, image_users, owned, store_image

PERMISSION = "organisation.manage"


def _upload(request, form):
    """The stored image, or None with the reason on the form."""
    try:
        image = store_image(request, request.POST.get("image"), form.name.data)
    except ImageRejected as exc:
        form.add_error("image", exc.args[0])
        return None
    if image is None:
        form.add_error("image", _("Choose an image to upload."))
        return None
    request.dbsession.add(image)
    request.dbsession.flush()
    record(request, "webpages.image_upload", "web_image", image.id, name=image.name)
    return image


@view_config(route_name="webpage_media", renderer="webpages/media.html", permission=PERMISSION)
def media(request):
    form = ImageForm(request)
    if request.method == "POST" and form.validate() and _upload(request, form):
        flash(request, _("The image is uploaded."), "success")
        return HTTPSeeOther(request.route_path("webpage_media"))
    return {"form": form, "images": by_name(request, WebImage)}


@view_config(route_name="webpage_media_delete", permission=PERMISSION, request_method="POST")
def media_delete(request):
    image = owned(request, WebImage, int(request.matchdict["id"]))
    users = image_users(request.dbsession, request.organisation.id, image.id)
    if users:
        flash(
            request,
            _(
                "${name} is used by ${sets}: choose another image there first.",
                mapping={"name": image.name, "sets": ", ".join(s.name for s in users)},
            ),
            "error",
        )
    else:
        request.dbsession.delete(image)
        record(request, "webpages.image_delete", "web_image", image.id, name=image.name)
        flash(request, _("${name} is deleted.", mapping={"name": image.name}), "success")
    return HTTPSeeOther(request.route_path("webpage_media"))


def includeme(config):
    org = "organisation"
    config.add_route("webpage_media", "/webpages/media", site=org)
    config.add_route("webpage_media_delete", f"/webpages/media/{ID}/delete", site=org)
    config.scan(__name__)
