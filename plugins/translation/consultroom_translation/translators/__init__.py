"""Translating caption text from the speaker's language into a listener's.

One interface, :class:`Translator` (``translate(text, source, target)`` and
the pairs it supports), with three adapters, one chosen per installation by
the ini setting ``consultroom_translation.translator``:

- ``apertium`` (the default): Debian's Apertium, offline, on this server;
  only the pairs whose packages are installed (``apt-get install
  apertium-eng-spa``), see :mod:`.apertium`;
- ``libretranslate``: a self-hosted LibreTranslate service
  (``consultroom_translation.libretranslate_url``, optional
  ``consultroom_translation.libretranslate_api_key``);
- ``deepl``: DeepL's API v2 (``consultroom_translation.deepl_auth_key``;
  ``consultroom_translation.deepl_url`` defaults to the free or pro address
  that the key belongs to);
- ``none``: captions are never translated.

``consultroom_translation.translator_timeout`` (seconds, default 5) bounds
each call. A caption must never be lost or delayed indefinitely because of
translation: an unsupported pair, a timeout, a service error or an answer
that makes no sense gives the original text back, marked untranslated
(``Translation.translated`` is False), and a warning in the log that names
the engine and the reason, never a key.

Calls block (a subprocess or an HTTP request): an asyncio caller runs them
in an executor; under gevent they cooperate once the process is patched.
:func:`translator_of` gives a process its installation's translator (built
once), :func:`translations` a caption in every language its listeners read.
"""

import logging
from dataclasses import dataclass

from pyramid.exceptions import ConfigurationError

log = logging.getLogger(__name__)

SETTING = "consultroom_translation.translator"
PREFIX = "consultroom_translation."
DEFAULT_TIMEOUT = 5.0
# A caption is a sentence or two; anything far longer is not a caption and
# is not sent to a paid service.
MAX_CHARS = 2000


@dataclass(frozen=True)
class Translation:
    """``text`` in the target language, or, when ``translated`` is False,
    the original text that could not be translated (say so to the reader)."""

    text: str
    translated: bool
    engine: str


class TranslationFailed(Exception):  # noqa: N818 (what happened, not a bug)
    """An adapter could not translate; ``reason`` is safe to log."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def base_language(code):
    """``"en"`` for ``"en"``, ``"EN-GB"``, ``"en_US"``: engines and our
    language settings meet on the two-letter code."""
    return (code or "").replace("_", "-").split("-")[0].strip().lower()


class Translator:
    """The interface, and the part every adapter shares: checks, the
    untranslated result, and never an exception out of :meth:`translate`.
    Adapters implement :meth:`pairs` and :meth:`_translate`. This base class
    itself is the ``none`` engine: it supports no pair."""

    name = "none"

    def pairs(self):
        """The ``(source, target)`` two-letter codes this engine translates."""
        return frozenset()

    def supports(self, source, target):
        return (base_language(source), base_language(target)) in self.pairs()

    def translate(self, text, source, target):
        """A :class:`Translation` of ``text`` from ``source`` into ``target``."""
        source, target = base_language(source), base_language(target)
        if source == target or not text.strip():
            return Translation(text, True, self.name)
        if len(text) > MAX_CHARS:
            return self._untranslated(text, source, target, "text too long")
        try:
            if not self.supports(source, target):
                return self._untranslated(text, source, target, "pair not supported")
            result = self._translate(text, source, target)
        except TranslationFailed as exc:
            return self._untranslated(text, source, target, exc.reason)
        except Exception:  # a bug in an adapter must not cost the caption
            log.exception("translator %s failed on %s-%s", self.name, source, target)
            return Translation(text, False, self.name)
        return Translation(result, True, self.name)

    def _translate(self, text, source, target):
        raise TranslationFailed("no translation engine")

    def _untranslated(self, text, source, target, reason):
        log.warning("translator %s: %s-%s not translated: %s", self.name, source, target, reason)
        return Translation(text, False, self.name)

    def __repr__(self):
        # Never the keys: a translator may end up in a log line or a traceback.
        return f"<{type(self).__name__} {self.name}>"


def _timeout(settings):
    raw = settings.get(PREFIX + "translator_timeout", "") or DEFAULT_TIMEOUT
    try:
        timeout = float(raw)
    except ValueError:
        timeout = 0
    if not 0 < timeout <= 60:
        raise ConfigurationError(
            f"{PREFIX}translator_timeout: a number of seconds above 0 and at most 60"
        )
    return timeout


def _build_apertium(settings, timeout):
    from consultroom_translation.translators.apertium import Apertium

    command = settings.get(PREFIX + "apertium_command") or "apertium"
    return Apertium(command=command, timeout=timeout)


def _build_libretranslate(settings, timeout):
    from consultroom_translation.translators.libretranslate import LibreTranslate

    return LibreTranslate(
        url=settings.get(PREFIX + "libretranslate_url", ""),
        api_key=settings.get(PREFIX + "libretranslate_api_key", ""),
        timeout=timeout,
    )


def _build_deepl(settings, timeout):
    from consultroom_translation.translators.deepl import DeepL

    return DeepL(
        auth_key=settings.get(PREFIX + "deepl_auth_key", ""),
        url=settings.get(PREFIX + "deepl_url", ""),
        timeout=timeout,
    )


ENGINES = {
    "apertium": _build_apertium,
    "libretranslate": _build_libretranslate,
    "deepl": _build_deepl,
    "none": lambda settings, timeout: Translator(),
}


def from_settings(settings):
    """The installation's translator, from its ini ``settings``; raises
    ConfigurationError for an unknown engine or one missing what it needs,
    so that a wrong setting stops start-up rather than every translation."""
    engine = (settings.get(SETTING) or "apertium").strip().lower()
    if engine not in ENGINES:
        raise ConfigurationError(f"{SETTING}: one of {', '.join(ENGINES)}, not {engine!r}")
    return ENGINES[engine](settings, _timeout(settings))


def translator_of(registry):
    """The installation's translator, built once per application registry
    (an adapter caches the languages its service offers)."""
    translator = getattr(registry, "consultroom_translation_translator", None)
    if translator is None:
        translator = from_settings(registry.settings)
        registry.consultroom_translation_translator = translator
    return translator


def translations(translator, text, source, targets):
    """The caption ``text``, said in ``source``, in each caption language of
    ``targets`` other than ``source``: ``{target: {"text": ...,
    "translated": bool}}``, ready for the room's message (a listener whose
    translation failed reads the original, marked untranslated)."""
    result = {}
    for target in sorted({base_language(t) for t in targets} - {base_language(source)}):
        translation = translator.translate(text, source, target)
        result[target] = {"text": translation.text, "translated": translation.translated}
    return result
