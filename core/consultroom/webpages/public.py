"""The pages as visitors see them: a published set on its own subdomain
(``<slug>.<base domain>``, which serves nothing else) or at
``/site/<slug>`` on the organisation's site, its stylesheet and images; and
the staff's preview, which also shows a set that is not published.

Pages are cacheable: the body has no per-request parts (no nonce, no form
token: the widget is an iframe, the colours and CSS a stylesheet of their
own), so its hash is a strong ETag and a repeated request with
If-None-Match gets 304 Not Modified. Visitors' caches keep a page a minute
(``MAX_AGE``), so unpublishing takes effect within that.
"""

import hashlib

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.web import ID, headers
from consultroom.web.sites import ORGANISATION, org_url, public_base
from consultroom.webpages.models import WIDGET_BOOKING, WIDGET_WALK_IN, WebImage
from consultroom.webpages.service import SITE, clean_html, published_set
from consultroom.webpages.views import page_from_url, page_set_from_url
from consultroom.widgets.models import WalkInWidget

MAX_AGE = 60
PUBLIC_CACHE = f"public, max-age={MAX_AGE}"
PRIVATE_CACHE = "private, no-store"
# What the language of a page depends on (consultroom.i18n.negotiate_locale).
VARY = ("Accept-Language", "Cookie")
POSITION = "{position:[1-3]}"
SLUG = "{slug:[a-z0-9-]{1,63}}"


def _cacheable(body, content_type, cache_control):
    """A response with a strong ETag of ``body``; 304 for a matching If-None-Match."""
    response = Response(
        body=body,
        content_type=content_type,
        charset="utf-8" if content_type.startswith("text/") else None,
        cache_control=cache_control,
        conditional_response=True,
    )
    response.etag = hashlib.sha256(body).hexdigest()[:32]
    response.vary = VARY
    return response


def _on_own_host(request):
    return request.site == SITE


def _public_set(request):
    """The published set this request's host or path names, or 404 (also
    another organisation's set on this organisation's site)."""
    if _on_own_host(request):
        slug = request.host.split(".", 1)[0].lower()
    else:
        slug = request.matchdict["slug"]
    page_set = published_set(request.dbsession, slug)
    if page_set is None or page_set.organisation_id != request.organisation.id:
        raise HTTPNotFound()
    return page_set


def _page_at(page_set, position):
    page = next((p for p in page_set.pages if p.position == position), None)
    if page is None:
        raise HTTPNotFound()
    return page


def _public_path(request, page_set, position=0, name=""):
    """A page's (or the stylesheet's) path where the visitor is."""
    base = "" if _on_own_host(request) else f"/site/{page_set.slug}"
    if name:
        return f"{base}/{name}"
    return f"{base}/{position}" if position else (base or "/")


def _widget_url(request, page):
    org = request.organisation
    if page.widget == WIDGET_BOOKING:
        return org_url(request, org, "/book")
    if page.widget == WIDGET_WALK_IN and page.walk_in_widget_id:
        widget = request.dbsession.scalar(
            select(WalkInWidget).where(
                WalkInWidget.organisation_id == org.id, WalkInWidget.id == page.walk_in_widget_id
            )
        )
        if widget is not None:
            return org_url(request, org, f"/walk-in/{widget.public_id}")
    return None


def image_url(image):
    return f"/site-media/{image.public_id}.png" if image else None


def _render(request, page_set, page, links, stylesheet, preview=False):
    widget_url = _widget_url(request, page)
    body = render(
        "webpages/page.html",
        {
            "page_set": page_set,
            "page": page,
            "links": links,
            "stylesheet": stylesheet,
            "widget_url": widget_url,
            "image_url": image_url,
            # Cleaned on save too; again here for text stored some other way.
            "rich": clean_html,
            "preview": preview,
        },
        request=request,
    ).encode()
    response = _cacheable(body, "text/html", PRIVATE_CACHE if preview else PUBLIC_CACHE)
    # The widget is the organisation's own page, framed from here.
    if widget_url:
        origin = public_base(request.registry.settings, request.organisation.subdomain)
        headers.only(request, "frame-src", [origin])
        headers.delegate(request, origin)
    return response


@view_config(route_name="webpage_public_home")
@view_config(route_name="webpage_public_page")
@view_config(route_name="webpage_site_home")
@view_config(route_name="webpage_site_page")
def public_page(request):
    page_set = _public_set(request)
    page = _page_at(page_set, int(request.matchdict.get("position", 0)))
    links = [(p, _public_path(request, page_set, p.position)) for p in page_set.pages]
    stylesheet = _public_path(request, page_set, name=f"style.css?v={_version(page_set)}")
    return _render(request, page_set, page, links, stylesheet)


@view_config(route_name="webpage_preview", permission="organisation.manage")
def preview(request):
    page = page_from_url(request)
    page_set = page.page_set
    links = [(p, request.route_path("webpage_preview", id=p.id)) for p in page_set.pages]
    stylesheet = request.route_path(
        "webpage_preview_style", id=page_set.id, _query={"v": _version(page_set)}
    )
    return _render(request, page_set, page, links, stylesheet, preview=True)


def _version(page_set):
    return page_set.updated_at.strftime("%Y%m%d%H%M%S%f")


COLOURS = {
    "--primary": "primary_colour",
    "--background": "background_colour",
    "--text": "text_colour",
    "--menu-background": "menu_background",
    "--menu-text": "menu_text",
}


def _stylesheet(request, page_set, cache_control):
    """The set's colours (checked #rrggbb on save) and its own CSS (cleaned
    by consultroom.web.safecss on save), after the layout's /static/css/webpages.css."""
    colours = "; ".join(f"{name}: {getattr(page_set, attr)}" for name, attr in COLOURS.items())
    css = f":root {{ {colours}; }}\n{page_set.custom_css}\n"
    return _cacheable(css.encode(), "text/css", cache_control)


@view_config(route_name="webpage_public_style")
@view_config(route_name="webpage_site_style")
def public_style(request):
    return _stylesheet(request, _public_set(request), PUBLIC_CACHE)


@view_config(route_name="webpage_preview_style", permission="organisation.manage")
def preview_style(request):
    return _stylesheet(request, page_set_from_url(request), PRIVATE_CACHE)


@view_config(route_name="webpage_image")
def image(request):
    """An image of the library, by its unguessable id, to anyone: pages are
    public, and a preview's images are those it will show once published."""
    found = request.dbsession.scalar(
        select(WebImage).where(
            WebImage.organisation_id == request.organisation.id,
            WebImage.public_id == request.matchdict["public_id"],
        )
    )
    if found is None:
        raise HTTPNotFound()
    # An image never changes under its id: a replacement is a new upload.
    return _cacheable(found.data, "image/png", "public, max-age=86400, immutable")


def includeme(config):
    org, own = ORGANISATION, SITE
    config.add_route("webpage_public_home", f"/site/{SLUG}", site=org)
    config.add_route("webpage_public_style", f"/site/{SLUG}/style.css", site=org)
    config.add_route("webpage_public_page", f"/site/{SLUG}/{POSITION}", site=org)
    config.add_route("webpage_site_home", "/", site=own)
    config.add_route("webpage_site_style", "/style.css", site=own)
    config.add_route("webpage_site_page", "/" + POSITION, site=own)
    config.add_route(
        "webpage_image", "/site-media/{public_id:[A-Za-z0-9_-]{1,20}}.png", site=(org, own)
    )
    config.add_route("webpage_preview", f"/webpages/pages/{ID}/preview", site=org)
    config.add_route("webpage_preview_style", f"/webpages/{ID}/preview.css", site=org)
    config.scan(__name__)
