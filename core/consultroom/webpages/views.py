"""The organisation admin's editor: page sets (address, look, publish
switch) and their pages (a main page and up to three follow-up pages)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from consultroom.audit import record
from consultroom.i18n import _
from consultroom.web import ID, flash
from consultroom.web.sites import public_base
from consultroom.webpages.forms import (
    NO_IMAGE,
    PageForm,
    PageSetForm,
    parse_widget_choice,
    widget_choice,
)
from consultroom.webpages.models import MAX_FOLLOW_UP_PAGES, WebImage, WebPage, WebPageSet
from consultroom.webpages.service import by_name, owned, slug_problem, touch
from consultroom.widgets.models import WalkInWidget

PERMISSION = "organisation.manage"
LOOK = ("primary_colour", "background_colour", "text_colour", "menu_background", "menu_text")
CONTENT = ("menu_title", "title", "main_text", "subtext")


def page_set_from_url(request):
    return owned(request, WebPageSet, int(request.matchdict["id"]))


def page_from_url(request):
    return owned(request, WebPage, int(request.matchdict["id"]))


def _image_id(value):
    return None if value == NO_IMAGE else value


def addresses(request, page_set):
    """The set's public addresses: its subdomain and its path on the organisation's site."""
    settings = request.registry.settings
    return (
        public_base(settings, page_set.slug) + "/",
        public_base(settings, request.organisation.subdomain) + f"/site/{page_set.slug}",
    )


@view_config(route_name="webpages", renderer="webpages/list.html", permission=PERMISSION)
def set_list(request):
    sets = by_name(request, WebPageSet, selectinload(WebPageSet.pages))
    return {"sets": sets, "addresses": lambda s: addresses(request, s)}


def _save_set(request, page_set, form):
    problem = slug_problem(request.dbsession, form.slug.data, page_set.id)
    if problem:
        form.add_error("slug", problem)
        return None
    new = page_set.id is None
    page_set.name = form.name.data
    page_set.slug = form.slug.data
    page_set.header_image_id = _image_id(form.header_image.data)
    for name in (*LOOK, "custom_css"):
        setattr(page_set, name, form[name].data.lower() if name in LOOK else form[name].data)
    touch(page_set)
    if new:
        # A new set starts with its main page and one follow-up page.
        page_set.pages = [
            WebPage(
                organisation_id=page_set.organisation_id,
                position=0,
                menu_title=page_set.name[: WebPage.menu_title.type.length],
            ),
            WebPage(
                organisation_id=page_set.organisation_id,
                position=1,
                menu_title=request.localizer.translate(_("More information")),
            ),
        ]
    try:
        # Another set may have taken the address since it was checked.
        with request.dbsession.begin_nested():
            request.dbsession.add(page_set)
            request.dbsession.flush()
    except IntegrityError:
        form.add_error("slug", _("This address is already taken."))
        return None
    record(
        request,
        "webpages.set_create" if new else "webpages.set_change",
        "web_page_set",
        page_set.id,
        slug=page_set.slug,
    )
    flash(request, _("The web pages are saved."), "success")
    return HTTPSeeOther(request.route_path("webpage_set_edit", id=page_set.id))


def _edit_set(request, page_set):
    initial = {name: getattr(page_set, name) for name in ("name", "slug", *LOOK, "custom_css")}
    initial["header_image"] = page_set.header_image_id or NO_IMAGE
    form = PageSetForm(request, by_name(request, WebImage), **initial)
    if request.method == "POST" and form.validate():
        saved = _save_set(request, page_set, form)
        if saved:
            return saved
    return {
        "form": form,
        "page_set": page_set,
        "addresses": addresses(request, page_set) if page_set.id else None,
        "can_add_page": page_set.id and len(page_set.pages) <= MAX_FOLLOW_UP_PAGES,
    }


@view_config(route_name="webpage_set_new", renderer="webpages/set_form.html", permission=PERMISSION)
def set_new(request):
    # The column defaults, which SQLAlchemy fills in only on insert.
    page_set = WebPageSet(
        organisation_id=request.organisation.id,
        name="",
        slug="",
        primary_colour="#1f6f8b",
        background_colour="#ffffff",
        text_colour="#1a1a1a",
        menu_background="#1f6f8b",
        menu_text="#ffffff",
        custom_css="",
    )
    return _edit_set(request, page_set)


@view_config(
    route_name="webpage_set_edit", renderer="webpages/set_form.html", permission=PERMISSION
)
def set_edit(request):
    return _edit_set(request, page_set_from_url(request))


@view_config(route_name="webpage_set_delete", permission=PERMISSION, request_method="POST")
def set_delete(request):
    page_set = page_set_from_url(request)
    request.dbsession.delete(page_set)
    record(request, "webpages.set_delete", "web_page_set", page_set.id, slug=page_set.slug)
    flash(request, _("${name} is deleted.", mapping={"name": page_set.name}), "success")
    return HTTPSeeOther(request.route_path("webpages"))


@view_config(route_name="webpage_set_publish", permission=PERMISSION, request_method="POST")
def set_publish(request):
    page_set = page_set_from_url(request)
    page_set.published = request.POST.get("published") == "1"
    touch(page_set)
    record(
        request,
        "webpages.publish" if page_set.published else "webpages.unpublish",
        "web_page_set",
        page_set.id,
        slug=page_set.slug,
    )
    message = (
        _("${name} is published.", mapping={"name": page_set.name})
        if page_set.published
        else _("${name} is no longer published.", mapping={"name": page_set.name})
    )
    flash(request, message, "success")
    return HTTPSeeOther(request.route_path("webpage_set_edit", id=page_set.id))


def _save_page(request, page_set, page, form):
    new = page.id is None
    for name in CONTENT:
        setattr(page, name, form[name].data)
    page.main_image_id = _image_id(form.main_image.data)
    page.widget, page.walk_in_widget_id = parse_widget_choice(form.widget.data)
    touch(page_set)
    request.dbsession.add(page)
    request.dbsession.flush()
    record(
        request,
        "webpages.page_create" if new else "webpages.page_change",
        "web_page",
        page.id,
        set_id=page.set_id,
        position=page.position,
    )
    flash(request, _("The page is saved."), "success")
    return HTTPSeeOther(request.route_path("webpage_set_edit", id=page.set_id))


def _edit_page(request, page_set, page):
    initial = {name: getattr(page, name) for name in CONTENT}
    initial["main_image"] = page.main_image_id or NO_IMAGE
    initial["widget"] = widget_choice(page.widget, page.walk_in_widget_id)
    form = PageForm(request, by_name(request, WebImage), by_name(request, WalkInWidget), **initial)
    if request.method == "POST" and form.validate():
        return _save_page(request, page_set, page, form)
    return {"form": form, "page": page, "page_set": page_set}


@view_config(
    route_name="webpage_page_new", renderer="webpages/page_form.html", permission=PERMISSION
)
def page_new(request):
    page_set = page_set_from_url(request)
    if len(page_set.pages) > MAX_FOLLOW_UP_PAGES:
        flash(
            request,
            _("A set has at most ${n} follow-up pages.", mapping={"n": MAX_FOLLOW_UP_PAGES}),
            "error",
        )
        return HTTPSeeOther(request.route_path("webpage_set_edit", id=page_set.id))
    position = (
        request.dbsession.scalar(
            select(func.max(WebPage.position)).where(WebPage.set_id == page_set.id)
        )
        or 0
    ) + 1
    # Added to the session only when saved: the form may be refused.
    page = WebPage(
        organisation_id=page_set.organisation_id,
        set_id=page_set.id,
        position=position,
        menu_title="",
        title="",
        main_text="",
        subtext="",
        widget="",
    )
    return _edit_page(request, page_set, page)


@view_config(
    route_name="webpage_page_edit", renderer="webpages/page_form.html", permission=PERMISSION
)
def page_edit(request):
    page = page_from_url(request)
    return _edit_page(request, page.page_set, page)


@view_config(route_name="webpage_page_delete", permission=PERMISSION, request_method="POST")
def page_delete(request):
    page = page_from_url(request)
    page_set = page.page_set
    if page.position == 0:
        flash(request, _("The main page cannot be deleted; delete the set instead."), "error")
        return HTTPSeeOther(request.route_path("webpage_set_edit", id=page_set.id))
    page_set.pages.remove(page)
    # The follow-up pages keep their order without a gap (1, 2, 3).
    request.dbsession.flush()
    for position, later in enumerate(page_set.pages):
        later.position = position
    touch(page_set)
    record(request, "webpages.page_delete", "web_page", page.id, set_id=page_set.id)
    flash(request, _("The page is deleted."), "success")
    return HTTPSeeOther(request.route_path("webpage_set_edit", id=page_set.id))


def includeme(config):
    org = "organisation"
    config.add_route("webpages", "/webpages", site=org)
    config.add_route("webpage_set_new", "/webpages/new", site=org)
    config.add_route("webpage_set_edit", f"/webpages/{ID}", site=org)
    config.add_route("webpage_set_delete", f"/webpages/{ID}/delete", site=org)
    config.add_route("webpage_set_publish", f"/webpages/{ID}/publish", site=org)
    config.add_route("webpage_page_new", f"/webpages/{ID}/pages/new", site=org)
    config.add_route("webpage_page_edit", f"/webpages/pages/{ID}", site=org)
    config.add_route("webpage_page_delete", f"/webpages/pages/{ID}/delete", site=org)
    config.scan(__name__)
