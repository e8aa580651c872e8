"""What the web pages' editor and public pages share: addresses (slugs),
rich text sanitising, images and who uses them, and finding a published set
by the host or path it is asked for at."""

import io

import nh3
from PIL import Image
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import or_, select

from consultroom.db import utcnow
from consultroom.db.scope import all_organisations
from consultroom.i18n import _
from consultroom.tenancy.models import Organisation
from consultroom.tenancy.service import RESERVED, subdomain_shape_problem
from consultroom.web.images import fit_image, read_upload
from consultroom.web.sites import public_base
from consultroom.webpages.models import WebImage, WebPage, WebPageSet

# The site kind of a page set's own subdomain (the ``site`` route predicate).
SITE = "webpage"
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_BOX = (2000, 2000)
# Kept for the installation's own use besides tenancy's reserved names.
RESERVED_SLUGS = RESERVED | {
    "site",
    "sites",
    "pages",
    "webpages",
    "media",
    "help",
    "docs",
    "status",
}

# Rich text: the structure and emphasis an editor needs; no styles, scripts,
# forms, frames or images (images come from the media library, placed by the
# page's own fields). Links get rel="noopener noreferrer" from nh3.
TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "a", "ul", "ol", "li",
    "h2", "h3", "h4", "blockquote", "hr", "span", "sub", "sup",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_html(text):
    """``text`` (HTML from the editor) reduced by nh3 to the allowed tags."""
    return nh3.clean(
        text or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()


def owned(request, model, object_id):
    """The organisation's ``model`` row ``object_id``, or 404 (also another
    organisation's)."""
    row = request.dbsession.scalar(
        select(model).where(model.organisation_id == request.organisation.id, model.id == object_id)
    )
    if row is None:
        raise HTTPNotFound()
    return row


def by_name(request, model, *loaded):
    """The organisation's ``model`` rows (images, sets, walk-in widgets) by
    name, with the relationships of the ``loaded`` loader options."""
    return request.dbsession.scalars(
        select(model)
        .where(model.organisation_id == request.organisation.id)
        .options(*loaded)
        .order_by(model.name)
    ).all()


def slug_problem(dbsession, slug, set_id=None):
    """Why ``slug`` cannot be a page set's address, or None. Unique across
    the installation: other sets and every organisation's subdomain."""
    problem = subdomain_shape_problem(slug, RESERVED_SLUGS)
    if problem:
        return problem
    # Uniqueness is the installation's: other organisations' rows count.
    with all_organisations(dbsession):
        taken = dbsession.scalar(
            select(WebPageSet.id).where(WebPageSet.slug == slug, WebPageSet.id != (set_id or 0))
        ) or dbsession.scalar(select(Organisation.id).where(Organisation.subdomain == slug))
    return _("This address is already taken.") if taken else None


def published_set(dbsession, slug):
    """The published page set at ``slug`` in any organisation, or None."""
    # The host names the set before any organisation is known.
    with all_organisations(dbsession):
        return dbsession.scalar(
            select(WebPageSet).where(WebPageSet.slug == slug, WebPageSet.published.is_(True))
        )


def resolve_subdomain(request, subdomain):
    """Tenancy's door: a published set's subdomain is a site of its own kind
    (``SITE``) for the set's organisation; None for anything else."""
    page_set = published_set(request.dbsession, subdomain)
    if page_set is None:
        return None
    with all_organisations(request.dbsession):
        org = request.dbsession.get(Organisation, page_set.organisation_id)
    return SITE, org


def touch(page_set):
    """The set changed: its pages' ETags change with it."""
    page_set.updated_at = utcnow()


def store_image(request, upload, name):
    """A new WebImage from a form upload (checked and re-encoded like every
    image upload), not yet added; raises ImageRejected; None without a file."""
    data = read_upload(upload, IMAGE_MAX_BYTES)
    if data is None:
        return None
    png = fit_image(data, IMAGE_BOX)
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    return WebImage(
        organisation_id=request.organisation.id,
        name=name,
        width=width,
        height=height,
        size=len(png),
        data=png,
    )


def image_users(dbsession, organisation_id, image_id):
    """The page sets using the image (as header or on one of their pages)."""
    return dbsession.scalars(
        select(WebPageSet)
        .where(
            WebPageSet.organisation_id == organisation_id,
            or_(
                WebPageSet.header_image_id == image_id,
                WebPageSet.id.in_(
                    select(WebPage.set_id).where(
                        WebPage.organisation_id == organisation_id,
                        WebPage.main_image_id == image_id,
                    )
                ),
            ),
        )
        .order_by(WebPageSet.name)
    ).all()


def slug_in_use(dbsession, subdomain):
    """Tenancy's claim: a new organisation may not take a page set's address."""
    # Across organisations: the console is creating a new one.
    with all_organisations(dbsession):
        return (
            dbsession.scalar(select(WebPageSet.id).where(WebPageSet.slug == subdomain)) is not None
        )


def framing_origins(request):
    """The widgets' door: the origins of the organisation's published sets,
    which show its widgets in an iframe."""
    slugs = request.dbsession.scalars(
        select(WebPageSet.slug).where(
            WebPageSet.organisation_id == request.organisation.id,
            WebPageSet.published.is_(True),
        )
    ).all()
    return [public_base(request.registry.settings, slug) for slug in slugs]
