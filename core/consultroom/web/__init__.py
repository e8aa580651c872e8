"""Page rendering: the theme's Jinja2 templates and static files, the values
every template can use (menu, plugin slots, CSRF token, organisation), the
error pages, and bad input refused before any view runs (inputs.py)."""

from pathlib import Path

from jinja2 import pass_context
from markupsafe import Markup, escape
from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.path import AssetResolver
from pyramid.response import Response
from translationstring import TranslationString

from consultroom.i18n import LANGUAGES, _
from consultroom.web import template_cache, themes
from consultroom.web.badges import list_badges
from consultroom.web.sites import public_base

# An object id in a route pattern: ASCII digits only (int() takes " 1" and
# "١"), and few enough to fit PostgreSQL's 32-bit integer columns.
ID = "{id:[0-9]{1,9}}"


def service_worker(name):
    """The response serving the theme's ``static/js/<name>`` at an address
    of its own: a service worker controls only the pages under the path it
    is served from, so it cannot stay under /static/. Browsers check for a
    new worker at least daily; no-cache makes them check sooner."""
    path = AssetResolver().resolve(f"{themes.BUNDLED}/default/static/js/{name}").abspath()
    response = Response(Path(path).read_bytes(), content_type="text/javascript")
    response.cache_control = "no-cache"
    return response


def menu(request):
    """The staff menu: every enabled feature's entries, grouped by section."""
    items = [
        i
        for result in request.hooks.consultroom_menu_items(request=request)
        for i in (result or [])
    ]
    sections = {}
    for item in sorted(items, key=lambda i: (i.order, i.label)):
        sections.setdefault(item.section, []).append(item)
    return sections


# The staff shell's menu groups, in the order shown, by MenuItem section
# (hookspecs.MenuItem documents them). A section no group names (a plugin's
# own) is shown under "More", before the profile.
MENU_GROUPS = (
    ("main", _("Daily work")),
    ("organisation", _("Organisation")),
    ("people", _("Departments and staff")),
    ("communication", _("Client communication")),
    ("profile", _("My account")),
)
OTHER_GROUP = _("More")


def menu_groups(request):
    """The menu as (section, translated title, items), in the shell's order;
    only sections that have entries for this user."""
    sections = menu(request)
    titles = dict(MENU_GROUPS)
    known = [key for key, _title in MENU_GROUPS if key in sections and key != "profile"]
    other = sorted(key for key in sections if key not in titles)
    order = known + other + (["profile"] if "profile" in sections else [])
    translate = request.localizer.translate
    return [(key, translate(titles.get(key, OTHER_GROUP)), sections[key]) for key in order]


def slot(request, name, **context):
    filler = request.hooks.slot_filler(name)
    if filler is None:
        return Markup("")
    parts = filler(request=request, slot=name, context=context)
    html = "".join(p for p in reversed(parts) if p)
    # Slot HTML comes from installed plugin code, which is trusted like the core.
    return Markup(html)  # nosec B704


def select_options(request, field):
    """A select field's ``<option>`` elements, their labels translated: in
    one call, where a template's loop took some microseconds an option (the
    organisation's time zone has 599)."""
    html = "".join(
        f'<option value="{escape(choice.value)}"{" selected" if choice.selected else ""}>'
        f"{escape(translate_any(request, choice.label))}</option>"
        for choice in field.iter_choices()
    )
    return Markup(html)  # each value and label escaped  # nosec B704


def flash(request, message, kind="info"):
    request.session.flash({"text": request.localizer.translate(message), "kind": kind})


def _template_globals(event):
    request = event["request"]
    name = event["renderer_name"]
    if request is None or name.startswith("mail/") or ":templates/mail/" in name:
        return  # e-mail has no page around it (a plugin's mail: see queue_mail)
    event.update(
        org=request.organisation,
        user=request.identity,
        languages=LANGUAGES,
        locale=request.locale_name,
        csrf_token=lambda: get_csrf_token(request),
        menu=lambda: menu(request),
        menu_groups=lambda: menu_groups(request),
        slot=lambda name, **kw: slot(request, name, **kw),
        list_badges=lambda name, rows: list_badges(request, name, rows),
        select_options=lambda field: select_options(request, field),
        flashes=lambda: request.session.pop_flash(),
        t=lambda text: translate_any(request, text),
        static=lambda path: themes.static_address(request, path),
        custom_css=lambda: themes.custom_css_address(request),
        # The organisation's own address, from the configuration: never from
        # the request's Host header.
        site_url=lambda: public_base(request.registry.settings, request.organisation.subdomain),
    )


@pass_context
def translate_shown(context, value):
    """Jinja's ``finalize``: a translation string printed as it is (a
    walk-in's name, ``clients.models.WALK_IN_NAME``) is shown in the page's
    language."""
    request = context.get("request")
    if isinstance(value, TranslationString) and request is not None:
        return request.localizer.translate(value)
    return value


def translate_any(request, text):
    """Translate a translation string (form labels, choices); pass others through."""
    if isinstance(text, TranslationString):
        return request.localizer.translate(text)
    return text


def includeme(config):
    settings = config.get_settings()
    installed = themes.installed_themes(config)
    settings.setdefault(
        "jinja2.directories", "\n".join(installed.parts(installed.installation, "templates"))
    )
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n")
    settings.setdefault("jinja2.i18n.domain", "consultroom")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.newstyle", "true")
    settings.setdefault("jinja2.trim_blocks", "true")
    settings.setdefault("jinja2.lstrip_blocks", "true")
    settings.setdefault("jinja2.finalize", "consultroom.web.translate_shown")
    template_cache.configure(settings)
    config.include("pyramid_jinja2")
    config.include(".themes")
    config.add_subscriber(_template_globals, BeforeRender)
    config.include(".errors")
    config.include(".inputs")
    config.include(".proxies")
    config.include(".sites")
