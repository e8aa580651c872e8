"""Organisation admin pages: the walk-in widgets and the websites that may
embed the widgets."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.i18n import _
from consultroom.tenancy.models import Department
from consultroom.web import ID, flash
from consultroom.web.images import ImageRejected, fit_image, read_upload
from consultroom.web.sites import org_url
from consultroom.widgets.forms import EmbedOriginsForm, WalkInWidgetForm
from consultroom.widgets.models import WalkInWidget

IMAGES = {  # form field -> (max bytes, box)
    "logo": (2 * 1024 * 1024, (300, 100)),
    "background": (5 * 1024 * 1024, (1600, 1200)),
}
SETTINGS = ("name", "opening_hours", "absence_text", "terms_text", "intake_fields", "custom_css")


def _widgets_query(request):
    return select(WalkInWidget).where(WalkInWidget.organisation_id == request.organisation.id)


def _widget(request):
    widget = request.dbsession.scalar(
        _widgets_query(request).where(WalkInWidget.id == int(request.matchdict["id"]))
    )
    if widget is None:
        raise HTTPNotFound()
    return widget


def _departments(request):
    return request.dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == request.organisation.id)
        .order_by(Department.name)
    ).all()


@view_config(route_name="widgets", renderer="widgets/list.html", permission="organisation.manage")
def widget_list(request):
    org = request.organisation
    widgets = request.dbsession.scalars(_widgets_query(request).order_by(WalkInWidget.name)).all()
    return {
        "widgets": widgets,
        "booking_url": org_url(request, org, "/book"),
        "walk_in_url": lambda w: org_url(request, org, f"/walk-in/{w.public_id}"),
    }


def _read_images(form, request):
    """The uploaded images, fitted, by field name; None (with the reason on
    the field) if one is refused."""
    images = {}
    for name, (max_bytes, box) in IMAGES.items():
        try:
            data = read_upload(request.POST.get(name), max_bytes)
            images[name] = fit_image(data, box) if data else None
        except ImageRejected as exc:
            form.add_error(name, exc.args[0])
    return None if form.problems else images


def _save(request, widget, form, departments):
    images = _read_images(form, request)
    if images is None:
        return None
    for name in SETTINGS:
        setattr(widget, name, form[name].data)
    widget.primary_colour = form.primary_colour.data.lower()
    widget.background_colour = form.background_colour.data.lower()
    widget.departments = [d for d in departments if d.id in set(form.departments.data or [])]
    for name in IMAGES:
        if form[f"remove_{name}"].data:
            setattr(widget, name, None)
        elif images[name]:
            setattr(widget, name, images[name])
    request.dbsession.add(widget)
    flash(request, _("The walk-in widget is saved."), "success")
    return HTTPSeeOther(request.route_path("widgets"))


def _edit(request, widget):
    departments = _departments(request)
    initial = {
        name: getattr(widget, name) for name in (*SETTINGS, "primary_colour", "background_colour")
    }
    initial["departments"] = [d.id for d in widget.departments]
    form = WalkInWidgetForm(request, departments, **initial)
    if request.method == "POST" and form.validate():
        saved = _save(request, widget, form, departments)
        if saved:
            return saved
    return {"form": form, "widget": widget}


@view_config(
    route_name="walk_in_widget_new", renderer="widgets/form.html", permission="organisation.manage"
)
def widget_new(request):
    # The column defaults, which SQLAlchemy fills in only on insert.
    widget = WalkInWidget(
        organisation_id=request.organisation.id,
        name="",
        opening_hours="",
        absence_text="",
        terms_text="",
        custom_css="",
        intake_fields=["last_name"],
        primary_colour="#1f6f8b",
        background_colour="#ffffff",
    )
    return _edit(request, widget)


@view_config(
    route_name="walk_in_widget_edit", renderer="widgets/form.html", permission="organisation.manage"
)
def widget_edit(request):
    return _edit(request, _widget(request))


@view_config(
    route_name="walk_in_widget_delete", permission="organisation.manage", request_method="POST"
)
def widget_delete(request):
    widget = _widget(request)
    request.dbsession.delete(widget)
    flash(request, _("${name} is deleted.", mapping={"name": widget.name}), "success")
    return HTTPSeeOther(request.route_path("widgets"))


@view_config(
    route_name="embed_origins",
    renderer="widgets/embed_origins.html",
    permission="organisation.manage",
)
def embed_origins(request):
    org = request.organisation
    form = EmbedOriginsForm(request, origins="\n".join(org.embed_origins or []))
    if request.method == "POST":
        origins = form.check()
        if origins is not None:
            org.embed_origins = origins
            flash(request, _("The websites are saved."), "success")
            return HTTPSeeOther(request.route_path("embed_origins"))
    return {"form": form}


def includeme(config):
    org = "organisation"
    config.add_route("widgets", "/widgets", site=org)
    config.add_route("embed_origins", "/widgets/embed-origins", site=org)
    config.add_route("walk_in_widget_new", "/widgets/walk-in/new", site=org)
    config.add_route("walk_in_widget_edit", f"/widgets/walk-in/{ID}", site=org)
    config.add_route("walk_in_widget_delete", f"/widgets/walk-in/{ID}/delete", site=org)
    config.scan(__name__)
