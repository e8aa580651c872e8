"""Translations: the catalogues (the core's, and each bundled plugin's in its
own domain) are complete and up to date with the sources, their
placeholders match, and pages come out in the language asked for.

After adding or changing a user-facing string, run ``scripts/update-translations``
and translate the new and fuzzy entries of the nl, de and sv catalogues.
"""

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from pyramid.registry import Registry

from consultroom.accounts.models import Role
from consultroom.i18n import LANGUAGES, LOCALE_DIR, _, localizer_for, regional

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = sorted(set(LANGUAGES) - {"en"})
UPDATE = "run scripts/update-translations and translate the new or fuzzy entries"


@dataclass(frozen=True)
class Catalogues:
    """One domain's catalogues, extracted from the sources under ``source``
    (by its babel.cfg) with ``keywords``, as scripts/update-translations does."""

    domain: str
    locale_dir: Path
    source: Path
    keywords: tuple = ("_",)

    @property
    def pot(self):
        return self.locale_dir / f"{self.domain}.pot"

    def po(self, lang):
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.domain}.po"


def _plugin_catalogues():
    for cfg in sorted(ROOT.glob("plugins/*/babel.cfg")):
        [init] = cfg.parent.glob("consultroom_*/__init__.py")
        package = init.parent
        yield Catalogues(package.name, package / "locale", cfg.parent, ("_", "t"))


ALL = [Catalogues("consultroom", LOCALE_DIR, ROOT), *_plugin_catalogues()]


def read_catalogue(path):
    with open(path, "rb") as f:
        return read_po(f)


def keys(catalogue):
    """The (msgid, context) of every message, without the header."""
    return {(m.id, m.context) for m in catalogue if m.id}


def forms(value):
    return value if isinstance(value, tuple) else (value,)


# Pyramid interpolates ``${name}`` and ``$name`` (``$$`` is a literal dollar);
# Jinja2's newstyle gettext applies ``%`` to every template string.
DOLLAR = re.compile(r"(?<!\$)\$(?:\{([A-Za-z][-\w]*)\}|([A-Za-z][-\w]*))")
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def placeholders(text):
    found = [f"${{{a or b}}}" for a, b in DOLLAR.findall(text)]
    found += PERCENT.findall(text)
    return Counter(found)


def stray_percent(text):
    return "%" in PERCENT.sub("", text)


def from_template(message):
    return any(not path.endswith(".py") for path, _line in message.locations)


@pytest.fixture(
    scope="module",
    params=[(c, lang) for c in ALL for lang in TRANSLATED],
    ids=lambda p: f"{p[0].domain}-{p[1]}",
)
def catalogue(request):
    catalogues, lang = request.param
    path = catalogues.po(lang)
    assert path.exists(), f"{path} is missing: {UPDATE}"
    return lang, read_catalogue(path), catalogues


@pytest.mark.sqlite_only
def test_every_message_is_translated(catalogue):
    lang, cat, _catalogues = catalogue
    untranslated = [m.id for m in cat if m.id and not all(s.strip() for s in forms(m.string))]
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    assert not untranslated, f"{lang}: untranslated {untranslated}; {UPDATE}"
    assert not fuzzy, (
        f"{lang}: fuzzy (check the translation, then remove the '#, fuzzy' line) {fuzzy}"
    )


@pytest.mark.sqlite_only
def test_catalogue_matches_the_template(catalogue):
    lang, cat, catalogues = catalogue
    expected = keys(read_catalogue(catalogues.pot))
    present = keys(cat)
    assert present == expected, (
        f"{lang}: missing {sorted(expected - present)}, obsolete"
        f" {sorted(present - expected)}; {UPDATE}"
    )


@pytest.mark.sqlite_only
def test_translations_keep_the_placeholders(catalogue):
    lang, cat, _catalogues = catalogue
    problems = []
    for m in cat:
        if not m.id:
            continue
        wanted = placeholders(forms(m.id)[-1])
        for text in forms(m.string):
            if not text:
                continue
            got = placeholders(text)
            if isinstance(m.id, tuple):
                ok = set(got) <= set(wanted) | set(placeholders(m.id[0]))
            else:
                ok = got == wanted
            if not ok:
                problems.append(f"{m.id!r} -> {text!r}")
            elif from_template(m) and stray_percent(text):
                problems.append(f"{m.id!r} -> {text!r} (a lone % breaks the template; write %%)")
    assert not problems, f"{lang}: placeholders differ:\n" + "\n".join(problems)


def pybabel():
    script = Path(sys.executable).with_name("pybabel")
    return [str(script)] if script.exists() else [sys.executable, "-m", "babel.messages.frontend"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("catalogues", ALL, ids=lambda c: c.domain)
def test_template_is_up_to_date_with_the_sources(tmp_path, catalogues):
    # The same extraction as scripts/update-translations (babel.cfg, keywords).
    fresh = tmp_path / "fresh.pot"
    keywords = [arg for keyword in catalogues.keywords for arg in ("-k", keyword)]
    subprocess.run(
        [*pybabel(), "-q", "extract", "-F", "babel.cfg", *keywords, "-o", str(fresh), "."],
        cwd=catalogues.source,
        check=True,
        capture_output=True,
        text=True,
    )
    expected = keys(read_catalogue(fresh))
    committed = keys(read_catalogue(catalogues.pot))
    assert expected, "the extraction found no messages: is babel.cfg right?"
    added, removed = sorted(expected - committed), sorted(committed - expected)
    assert not (added or removed), (
        f"{catalogues.pot.relative_to(ROOT)} is out of date with the sources: new {added},"
        f" gone {removed}. {UPDATE[0].upper()}{UPDATE[1:]}."
    )


# --- pages in the chosen language ---------------------------------------------


def _hashable(value):
    """A plural message's id and strings come as lists from a .mo file."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _entries(messages):
    return {(_hashable(m.id), m.context): _hashable(m.string) for m in messages}


def compiled_matches(catalogues, lang):
    mo = catalogues.po(lang).with_suffix(".mo")
    if not mo.exists():
        return False
    with open(mo, "rb") as f:
        compiled = _entries(m for m in read_mo(f) if m.id)
    source = read_catalogue(catalogues.po(lang))
    return compiled == _entries(m for m in source if m.id and m.string and not m.fuzzy)


@pytest.fixture(scope="module")
def compiled():
    """The pages are translated from the .mo files, which are not committed."""
    stale = [
        f"{c.domain} {lang}" for c in ALL for lang in TRANSLATED if not compiled_matches(c, lang)
    ]
    if stale:
        pytest.fail(
            f"the {stale} catalogues are not compiled, or changed since: run"
            " scripts/bootstrap VENV (pybabel compile -d <locale dir> -D <domain>)"
        )


@pytest.fixture
def acme(make_organisation, compiled):
    return make_organisation("acme", name="Acme Clinic")


def assert_login_page(page, lang, *texts, absent="Forgot your password?"):
    assert f'<html lang="{lang}" ' in page.text
    assert "Acme Clinic" in page.text
    for text in texts:
        assert text in page.text, f"{text!r} is not on the {lang} login page"
    assert absent not in page.text


def test_login_page_in_english_by_default(webtest, acme):
    page = webtest("acme").get("/login")
    assert_login_page(
        page, "en", "Log in", "E-mail address", "Forgot your password?", absent="Wachtwoord"
    )


def test_dutch_by_switch_and_remembered_in_a_cookie(webtest, acme):
    app = webtest("acme")
    page = app.get("/login", {"_LOCALE_": "nl"})
    assert_login_page(page, "nl", "Inloggen", "E-mailadres", "Wachtwoord vergeten?")
    assert app.cookies.get("_LOCALE_") == "nl"

    page = app.get("/login")  # no switch: the cookie decides
    assert_login_page(page, "nl", "Inloggen", "Wachtwoord vergeten?")


def test_german_by_accept_language(webtest, acme):
    page = webtest("acme").get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert_login_page(page, "de", "Anmelden", "E-Mail-Adresse", "Passwort vergessen?")


def test_swedish_by_switch_beats_accept_language(webtest, acme):
    app = webtest("acme")
    page = app.get("/login?_LOCALE_=sv", headers={"Accept-Language": "de"})
    assert_login_page(page, "sv", "Logga in", "E-postadress", "Glömt ditt lösenord?")
    assert app.cookies.get("_LOCALE_") == "sv"


def test_a_plugins_page_speaks_its_own_domain_and_the_cores(
    webtest, acme, enable_plugin, make_user, login
):
    enable_plugin(acme, "chat")
    app = webtest("acme")
    login(app, make_user(acme, role=Role.org_admin))
    page = app.get("/messages", {"_LOCALE_": "de"})
    assert "Kanal erstellen mit" in page.text  # chat's catalogue
    assert "Abmelden" in page.text  # the core's layout


@pytest.mark.parametrize(
    "language, zone, expected",
    [
        ("en", "Europe/Amsterdam", "en_NL"),  # 19:24, not 7:24 PM
        ("en", "America/New_York", "en_US"),
        ("sv", "Europe/Stockholm", "sv_SE"),
        ("de", "Europe/Amsterdam", "de"),  # Babel knows no de_NL: the language alone
        ("nl", "UTC", "nl"),  # a zone of no region
    ],
)
def test_dates_are_written_as_in_the_organisations_region(language, zone, expected):
    assert regional(language, zone) == expected


def test_a_localizer_outside_a_request_is_made_once_per_language(app):
    # Making one reads every catalogue from disk; API errors and client
    # pages ask for one per request.
    nl = localizer_for(app.registry, "nl")
    assert nl.translate(_("Log in")) == "Inloggen"
    assert localizer_for(app.registry, "nl") is nl
    assert localizer_for(app.registry, "de") is not nl


def test_a_language_we_do_not_speak_is_not_kept():
    registry = Registry()
    assert localizer_for(registry, "xx") is not localizer_for(registry, "xx")
