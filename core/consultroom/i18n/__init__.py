"""Translations: the message factory, the supported languages and locale choice.

The request's language is, in order: an explicit ``?_LOCALE_=`` switch
(remembered in a cookie), the logged-in user's preference, the cookie, the
browser's Accept-Language, and English.
"""

import functools
from pathlib import Path

from babel.core import Locale, UnknownLocaleError, get_global
from pyramid.i18n import TranslationStringFactory, make_localizer
from pyramid.interfaces import ILocalizer, ITranslationDirectories
from translationstring import TranslationString
from webob.acceptparse import create_accept_language_header

_ = TranslationStringFactory("consultroom")

LANGUAGES = {"en": "English", "nl": "Nederlands", "de": "Deutsch", "sv": "Svenska"}
DEFAULT_LANGUAGE = "en"
COOKIE = "_LOCALE_"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def _switch(request):
    """The ``?_LOCALE_=`` value as sent, or None: also when the query is not
    UTF-8 (the error page for that still needs a language). The query only:
    the language links are plain links, and reading a form here would parse
    every posted body before its view does."""
    if not request.environ.get("QUERY_STRING"):
        return None  # most requests: no query to parse
    try:
        return request.GET.get(COOKIE)
    except UnicodeDecodeError:
        return None


def negotiate_locale(request):
    explicit = _switch(request)
    if explicit in LANGUAGES:
        return explicit
    user = request.identity
    if user is not None and user.language in LANGUAGES:
        return user.language
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return _accepted(request.environ.get("HTTP_ACCEPT_LANGUAGE"))


# Browsers send a handful of different headers, and parsing one cost a
# request about 6 us; bounded, as anybody can send any header.
@functools.lru_cache(maxsize=512)
def _accepted(header):
    """The supported language that an Accept-Language header prefers."""
    accepted = create_accept_language_header(header)
    return accepted.lookup(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def _remember_switch(event):
    request = event.request
    choice = _switch(request) if request.method == "GET" else None
    if choice in LANGUAGES:
        event.response.set_cookie(
            COOKIE, choice, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )


def localizer_for(registry, language):
    """A localizer for ``language``, whatever the current request speaks.

    The one Pyramid keeps in the registry for requests in that language
    (``request.localizer``): making one reads every catalogue from disk,
    and API errors and client pages ask for one per request. Only the
    supported languages are kept, so stored data cannot grow the registry."""
    directories = registry.queryUtility(ITranslationDirectories) or []
    if language not in LANGUAGES:
        return make_localizer(language, directories)
    localizer = registry.queryUtility(ILocalizer, name=language)
    if localizer is None:
        localizer = make_localizer(language, directories)
        registry.registerUtility(localizer, ILocalizer, name=language)
    return localizer


def speak(request, language):
    """Render this request's page in ``language`` (a client's), unless the
    visitor chose a language themselves."""
    if _switch(request) is not None or COOKIE in request.cookies:
        return
    request.locale_name = language
    request.localizer = localizer_for(request.registry, language)


def regional(language, timezone):
    """The locale to format dates and times with: ``language`` as spoken in
    the region of the ``timezone`` (an IANA name), so that an Amsterdam
    organisation in English writes 19:24, not 7:24 PM. ``language`` itself
    where Babel knows no such combination (or the zone no region)."""
    territory = get_global("zone_territories").get(timezone)
    if territory:
        candidate = f"{language}_{territory}"
        try:
            Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            return language
        return candidate
    return language


@functools.cache
def _core_localizer(language):
    return make_localizer(language, [str(LOCALE_DIR)])


def translated(text, language):
    """``text`` in ``language`` where no request speaks it (a message for
    many readers, e.g. a waiting-list entry in the organisation's
    language): a translation string of the core translated, other text as
    it is."""
    if isinstance(text, TranslationString):
        return _core_localizer(language).translate(text)
    return text


def translate(request, message, mapping=None):
    return request.localizer.translate(_(message, mapping=mapping))


def includeme(config):
    from pyramid.events import NewResponse

    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs(str(LOCALE_DIR))
    config.add_subscriber(_remember_switch, NewResponse)
