"""The background images an organisation's admin offers in the consultation
room (``/organisation/backgrounds``): uploaded through the core's image
checks (consultroom.web.images: size cap, real decode, scaled), named,
deleted; and each served as a PNG to the room's pages of that organisation,
where anyone may replace their camera's background with it
(static/js/effects.js)."""

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import func, select
from wtforms import validators as v

from consultroom.audit import record
from consultroom.i18n import _
from consultroom.room.models import BackgroundImage
from consultroom.web import ID, flash
from consultroom.web.forms import Form
from consultroom.web.images import ImageRejected, fit_image, read_upload

MAX_BYTES = 4 * 1024 * 1024
BOX = (1280, 720)
MAX_IMAGES = 12


class BackgroundForm(Form):
    name = wtforms.StringField(
        _("Name"), [v.DataRequired(), v.Length(max=100)], filters=[lambda s: (s or "").strip()]
    )
    image = wtforms.FileField(
        _("Image"),
        description=_("PNG, JPEG, GIF or WebP, at most 4 MB; scaled to fit 1280 × 720 pixels."),
    )


def backgrounds_of(dbsession, organisation):
    """The organisation's background images, oldest first (without their bytes)."""
    return dbsession.scalars(
        select(BackgroundImage)
        .where(BackgroundImage.organisation_id == organisation.id)
        .order_by(BackgroundImage.id)
    ).all()


def _image(request):
    image = request.dbsession.get(BackgroundImage, int(request.matchdict["id"]))
    if image is None or image.organisation_id != request.organisation.id:
        raise HTTPNotFound()
    return image


def _count(request):
    return request.dbsession.scalar(
        select(func.count())
        .select_from(BackgroundImage)
        .where(BackgroundImage.organisation_id == request.organisation.id)
    )


def _checked_upload(request, form):
    """The scaled PNG of the form's upload, or None with the reason on the form."""
    try:
        data = read_upload(request.POST.get("image"), MAX_BYTES)
        if data is None:
            form.add_error("image", _("Choose an image file."))
            return None
        return fit_image(data, BOX)
    except ImageRejected as exc:
        form.add_error("image", exc.args[0])
        return None


@view_config(
    route_name="backgrounds", renderer="room/backgrounds.html", permission="organisation.manage"
)
def backgrounds(request):
    form = BackgroundForm(request)
    if request.method == "POST" and form.validate():
        if _count(request) >= MAX_IMAGES:
            form.add_error(
                "image",
                _(
                    "You have ${count} images, the most there may be.",
                    mapping={"count": MAX_IMAGES},
                ),
            )
        else:
            png = _checked_upload(request, form)
            if png is not None:
                image = BackgroundImage(
                    organisation_id=request.organisation.id, name=form.name.data, image=png
                )
                request.dbsession.add(image)
                request.dbsession.flush()
                record(request, "background.add", "background_image", image.id, name=image.name)
                flash(request, _("${name} is added.", mapping={"name": image.name}), "success")
                return HTTPSeeOther(request.route_path("backgrounds"))
    if request.method == "POST":
        request.response.status_int = 200
    return {"form": form, "images": backgrounds_of(request.dbsession, request.organisation)}


@view_config(
    route_name="background_delete", permission="organisation.manage", request_method="POST"
)
def delete(request):
    image = _image(request)
    record(request, "background.delete", "background_image", image.id, name=image.name)
    request.dbsession.delete(image)
    flash(request, _("${name} is deleted.", mapping={"name": image.name}), "success")
    return HTTPSeeOther(request.route_path("backgrounds"))


@view_config(route_name="background_image", request_method="GET")
def image(request):
    """Anyone on the organisation's site may load it: the room's pages of
    clients and guests offer it too; it is a picture the admin chose to show."""
    found = _image(request)
    return Response(body=found.image, content_type="image/png", cache_control="public, max-age=300")


def includeme(config):
    org = "organisation"
    config.add_route("backgrounds", "/organisation/backgrounds", site=org)
    config.add_route("background_delete", f"/organisation/backgrounds/{ID}/delete", site=org)
    config.add_route("background_image", f"/backgrounds/{ID}.png", site=org)
    config.scan(__name__)
