"""Page rendering: the theme's Jinja2 templates and static files, the values
every template can use (menu, plugin slots, CSRF token, organisation), the
error pages, and bad input refused before any view runs (inputs.py)."""
from pathlib import Path

from markupsafe import Markup
from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from translationstring import TranslationString

from consultroom.i18n import LANGUAGES

DEFAULT_THEMES_DIR = Path(__file__).resolve().parents[3] / "themes"

# An object id in a route pattern: ASCII digits only (int() takes " 1" and
# "١"), and few enough to fit PostgreSQL's 32-bit integer columns.
ID = "{id:[0-9]{1,9}}"


def theme_dir(settings):
    root = Path(settings.get("consultroom.themes_dir") or DEFAULT_THEMES_DIR)
    return root / settings.get("consultroom.theme", "default")


def menu(request):
    """The staff menu: every enabled feature's entries, grouped by section."""
    items = [i for result in request.hooks.consultroom_menu_items(request=request)
             for i in (result or [])]
    sections = {}
    for item in sorted(items, key=lambda i: (i.order, i.label)):
        sections.setdefault(item.section, []).append(item)
    return sections


def slot(request, name, **context):
    parts = request.hooks.consultroom_template_slot(
        request=request, slot=name, context=context
    )
    # Slot HTML comes from installed plugin code, which is trusted like the core.
    return Markup("").join(Markup(p) for p in reversed(parts) if p)  # nosec B704


def flash(request, message, kind="info"):
    request.session.flash({"text": request.localizer.translate(message), "kind": kind})


def _template_globals(event):
    request = event["request"]
    if request is None or event["renderer_name"].startswith("mail/"):
        return  # e-mail has no page around it
    event.update(
        org=request.organisation,
        user=request.identity,
        languages=LANGUAGES,
        locale=request.locale_name,
        csrf_token=lambda: get_csrf_token(request),
        menu=lambda: menu(request),
        slot=lambda name, **kw: slot(request, name, **kw),
        flashes=lambda: request.session.pop_flash(),
        t=lambda text: translate_any(request, text),
    )


def translate_any(request, text):
    """Translate a translation string (form labels, choices); pass others through."""
    if isinstance(text, TranslationString):
        return request.localizer.translate(text)
    return text


def includeme(config):
    settings = config.get_settings()
    templates = theme_dir(settings) / "templates"
    settings.setdefault("jinja2.directories", str(templates))
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n")
    settings.setdefault("jinja2.i18n.domain", "consultroom")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.newstyle", "true")
    settings.setdefault("jinja2.trim_blocks", "true")
    settings.setdefault("jinja2.lstrip_blocks", "true")
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".html")
    config.add_static_view("static", str(theme_dir(settings) / "static"), cache_max_age=3600)
    config.add_subscriber(_template_globals, BeforeRender)
    config.include(".errors")
    config.include(".inputs")
    config.include(".proxies")
