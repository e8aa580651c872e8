"""The translation plugin's translators (consultroom_translation.translators):
Apertium through the real ``apertium`` command with Debian's English-Spanish
pair (scripts/test installs apertium-eng-spa), LibreTranslate and DeepL
against local fakes on 127.0.0.1 that speak their APIs
(tests/translation_fakes.py). Whatever goes wrong, a caller gets the
original text marked untranslated, never an exception, and no key in the
log."""

import logging
import os
import shutil
import time

import pytest
from consultroom_translation.translators import (
    Translation,
    Translator,
    base_language,
    from_settings,
    translations,
    translator_of,
)
from consultroom_translation.translators import http as http_translators
from consultroom_translation.translators.apertium import pair_of
from consultroom_translation.translators.deepl import FREE_URL, PRO_URL
from pyramid.exceptions import ConfigurationError
from pyramid.registry import Registry
from translation_fakes import DEEPL_KEY, LIBRE_KEY, FakeDeepL, FakeLibreTranslate

pytestmark = pytest.mark.sqlite_only  # no database

P = "consultroom_translation."
# Skipped outside CI only: under CI=true a missing apertium fails the tests.
needs_apertium = pytest.mark.skipif(
    shutil.which("apertium") is None and os.environ.get("CI") != "true",
    reason="apertium not installed (scripts/test installs it)",
)


def untranslated(result, text, engine):
    return result == Translation(text, False, engine)


# -- the interface and the settings ------------------------------------------


def test_language_codes_meet_on_two_letters():
    assert [base_language(c) for c in ("en", "EN-GB", "pt_BR", " nl ", "", None)] == [
        "en", "en", "pt", "nl", "", "",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({P + "translator": "babelfish"}, "translator"),
        ({P + "translator": "libretranslate"}, "libretranslate_url"),
        ({P + "translator": "libretranslate", P + "libretranslate_url": "ftp://x"}, "url"),
        ({P + "translator": "deepl"}, "deepl_auth_key"),
        ({P + "translator": "deepl", P + "deepl_auth_key": "k", P + "deepl_url": "x"}, "url"),
        ({P + "translator_timeout": "soon"}, "timeout"),
        ({P + "translator_timeout": "0"}, "timeout"),
    ],
)
def test_a_wrong_setting_stops_start_up_with_its_name(settings, problem):
    with pytest.raises(ConfigurationError, match=problem):
        from_settings(settings)


def test_none_translates_nothing_and_says_so():
    translator = from_settings({P + "translator": "none"})
    assert type(translator) is Translator
    assert untranslated(translator.translate("Hello", "en", "nl"), "Hello", "none")
    # Nothing to translate is not a failure.
    assert translator.translate("Hello", "en-GB", "en") == Translation("Hello", True, "none")
    assert translator.translate("  ", "en", "nl") == Translation("  ", True, "none")


@needs_apertium
def test_a_caption_in_every_language_its_listeners_read():
    registry = Registry("test")
    registry.settings = {P + "apertium_command": "apertium"}
    translator = translator_of(registry)
    assert translator_of(registry) is translator  # built once per application
    assert translations(translator, "Good morning.", "en", ["es", "en-GB", "nl", "es"]) == {
        "es": {"text": "Buenos días.", "translated": True},
        "nl": {"text": "Good morning.", "translated": False},  # no English-Dutch pair
    }
    assert translations(translator, "Good morning.", "en", []) == {}


# -- Apertium, the real command ------------------------------------------------


def test_apertium_mode_names_give_pairs():
    assert pair_of("eng-spa") == ("en", "es")
    assert pair_of("spa-eng_US") == ("es", "en")
    assert pair_of("en-es") == ("en", "es")
    assert pair_of("nno-nob") == ("nn", "nb")
    assert pair_of("eng-spa-morph") is None  # a debugging mode, not a direction
    assert pair_of("xyz-eng") is None


@needs_apertium
def test_apertium_is_the_default_and_translates_installed_pairs():
    translator = from_settings({})
    assert translator.name == "apertium"
    assert {("en", "es"), ("es", "en")} <= translator.pairs()
    assert translator.modes()[("es", "en")] == "spa-eng"  # not the spa-eng_US variant
    result = translator.translate("Good morning, the doctor will see you now.", "en", "es")
    assert result.translated and result.engine == "apertium"
    assert "Buenos días" in result.text and "doctor" in result.text
    back = translator.translate("Buenos días, el médico está aquí.", "es", "en-GB")
    assert back == Translation("Good morning, the doctor is here.", True, "apertium")


@needs_apertium
def test_apertium_without_the_pair_gives_the_text_back(caplog):
    translator = from_settings({})
    with caplog.at_level(logging.WARNING):
        result = translator.translate("Good morning", "en", "nl")
    assert untranslated(result, "Good morning", "apertium")
    assert "en-nl not translated: pair not supported" in caplog.text


@needs_apertium
def test_apertium_text_is_never_a_command(tmp_path):
    marker = tmp_path / "pwned"
    text = f"Hello $(touch {marker}); `touch {marker}` | touch {marker} ^word$ [x]"
    result = from_settings({}).translate(text, "en", "es")
    assert result.translated
    assert not marker.exists()
    # Apertium's own stream syntax (^...$, [...]) is escaped, not obeyed.
    assert "^palabra$" in result.text and "[x]" in result.text


def fake_apertium(tmp_path, body):
    """A stand-in ``apertium`` program: lists eng-spa, then does ``body``."""
    script = tmp_path / "apertium"
    script.write_text(f'#!/bin/sh\n[ "$1" = -l ] && {{ echo eng-spa; exit 0; }}\n{body}\n')
    script.chmod(0o755)
    return {P + "apertium_command": str(script), P + "translator_timeout": "0.5"}


@pytest.mark.parametrize(
    "body, reason",
    [("sleep 5", "timed out"), ("exit 3", "exit status 3"), ("cat >/dev/null", "empty output")],
)
def test_apertium_failing_gives_the_text_back(tmp_path, caplog, body, reason):
    translator = from_settings(fake_apertium(tmp_path, body))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        result = translator.translate("Good morning", "en", "es")
    assert untranslated(result, "Good morning", "apertium")
    assert time.monotonic() - started < 3
    assert reason in caplog.text


def test_apertium_not_installed_supports_nothing(tmp_path):
    translator = from_settings({P + "apertium_command": str(tmp_path / "missing")})
    assert translator.pairs() == frozenset()
    assert untranslated(translator.translate("Hello", "en", "es"), "Hello", "apertium")


# -- LibreTranslate --------------------------------------------------------------


@pytest.fixture
def libre():
    with FakeLibreTranslate(api_key=LIBRE_KEY) as fake:
        yield fake


def libre_translator(fake, key=LIBRE_KEY, timeout="2"):
    return from_settings(
        {
            P + "translator": "libretranslate",
            P + "libretranslate_url": fake.url + "/",
            P + "libretranslate_api_key": key,
            P + "translator_timeout": timeout,
        }
    )


def test_libretranslate_translates_the_pairs_it_lists(libre):
    translator = libre_translator(libre)
    assert ("en", "nl") in translator.pairs() and ("en", "en") not in translator.pairs()
    assert translator.translate("Good morning", "en", "nl") == Translation(
        "Goedemorgen", True, "libretranslate"
    )
    assert libre.translations() == [
        {
            "q": "Good morning",
            "source": "en",
            "target": "nl",
            "format": "text",
            "api_key": LIBRE_KEY,
        }
    ]
    # Dutch has no Spanish: not asked at all.
    assert untranslated(
        translator.translate("Goedemorgen", "nl", "es"), "Goedemorgen", "libretranslate"
    )
    assert len(libre.translations()) == 1


def test_libretranslate_down_is_asked_again_after_a_while(libre, monkeypatch):
    translator = libre_translator(libre)
    libre.mode = 503
    assert untranslated(
        translator.translate("Good morning", "en", "de"), "Good morning", "libretranslate"
    )
    assert untranslated(
        translator.translate("Good morning", "en", "de"), "Good morning", "libretranslate"
    )
    assert len(libre.calls) == 1  # the failed language list is not asked for every caption
    libre.mode = None
    monkeypatch.setattr(http_translators, "PAIRS_RETRY_SECONDS", 0)
    translator = libre_translator(libre)
    libre.mode = 503
    translator.translate("Good morning", "en", "de")
    libre.mode = None
    assert translator.translate("Good morning", "en", "de").text == "Guten Morgen"


def test_libretranslate_unreachable_gives_the_text_back():
    with FakeLibreTranslate() as fake:
        url = fake.url
    translator = libre_translator(type("Gone", (), {"url": url})())
    assert untranslated(
        translator.translate("Good morning", "en", "nl"), "Good morning", "libretranslate"
    )


# -- DeepL -------------------------------------------------------------------------


@pytest.fixture
def deepl():
    with FakeDeepL() as fake:
        yield fake


def deepl_translator(fake, key=DEEPL_KEY, timeout="2"):
    return from_settings(
        {
            P + "translator": "deepl",
            P + "deepl_auth_key": key,
            P + "deepl_url": fake.url,
            P + "translator_timeout": timeout,
        }
    )


def test_deepl_free_and_pro_keys_have_their_own_address():
    free = from_settings({P + "translator": "deepl", P + "deepl_auth_key": "abc:fx"})
    pro = from_settings({P + "translator": "deepl", P + "deepl_auth_key": "abc"})
    assert (free.url, pro.url) == (FREE_URL, PRO_URL)


def test_deepl_translates_with_its_key_and_language_codes(deepl):
    translator = deepl_translator(deepl)
    assert translator.translate("Good morning", "en", "de") == Translation(
        "Guten Morgen", True, "deepl"
    )
    assert translator.translate("Hoe gaat het?", "nl", "en").translated
    assert deepl.translations() == [
        {"text": ["Good morning"], "source_lang": "EN", "target_lang": "DE"},
        {"text": ["Hoe gaat het?"], "source_lang": "NL", "target_lang": "EN-GB"},
    ]
    assert {c[2]["Authorization"] for c in deepl.calls} == {f"DeepL-Auth-Key {DEEPL_KEY}"}
    # Spanish is not among the fake's languages: not asked.
    assert untranslated(translator.translate("Good morning", "en", "es"), "Good morning", "deepl")
    assert len(deepl.translations()) == 2


def test_a_long_text_is_not_sent(deepl):
    translator = deepl_translator(deepl)
    text = "word " * 500
    assert untranslated(translator.translate(text, "en", "de"), text, "deepl")
    assert deepl.translations() == []


# -- both services ---------------------------------------------------------------

# engine: (its fake, the settings of its address and key, the fake's key)
SERVICES = {
    "libretranslate": (
        lambda: FakeLibreTranslate(api_key=LIBRE_KEY),
        "libretranslate_url",
        "libretranslate_api_key",
        LIBRE_KEY,
    ),
    "deepl": (FakeDeepL, "deepl_url", "deepl_auth_key", DEEPL_KEY),
}


def service_translator(engine, fake, key=None, timeout="2"):
    _, url_setting, key_setting, right_key = SERVICES[engine]
    return from_settings(
        {
            P + "translator": engine,
            P + url_setting: fake.url,
            P + key_setting: key or right_key,
            P + "translator_timeout": timeout,
        }
    )


@pytest.mark.parametrize("engine", SERVICES)
def test_a_wrong_key_gives_the_text_back_without_logging_it(engine, caplog):
    with SERVICES[engine][0]() as fake:
        translator = service_translator(engine, fake, key="5e1b-secret-key:fx")
        with caplog.at_level(logging.DEBUG):
            result = translator.translate("Good morning", "en", "de")
    assert untranslated(result, "Good morning", engine)
    assert "HTTP 403" in caplog.text
    assert "5e1b-secret-key" not in caplog.text and "5e1b-secret-key" not in repr(translator)


@pytest.mark.parametrize("engine", SERVICES)
@pytest.mark.parametrize(
    "mode, reason",
    [
        ("slow", "timed out"),
        (500, "HTTP 500"),
        (429, "HTTP 429"),
        (456, "HTTP 456"),
        ("nonsense", "not JSON"),
    ],
)
def test_a_failing_service_gives_the_text_back_in_time(engine, mode, reason, caplog):
    with SERVICES[engine][0]() as fake:
        translator = service_translator(engine, fake, timeout="0.3")
        assert translator.pairs()  # the list was read while the service was well
        fake.mode = mode
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            result = translator.translate("How are you?", "en", "de")
        assert time.monotonic() - started < 1.5
    assert untranslated(result, "How are you?", engine)
    assert reason in caplog.text
