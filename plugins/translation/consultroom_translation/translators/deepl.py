"""DeepL's API v2: ``POST /v2/translate`` with ``{"text": [...],
"source_lang", "target_lang"}`` and the header ``Authorization: DeepL-Auth-Key
KEY``, answering ``{"translations": [{"text", "detected_source_language"}]}``;
``GET /v2/languages?type=source|target`` lists the languages. Keys of the
free plan end in ``:fx`` and work only at api-free.deepl.com, the others
only at api.deepl.com. Errors: 403 (key), 429 (too many requests), 456
(quota used up), 5xx.

Target codes: DeepL wants a variety for some languages (``EN-GB`` or
``EN-US``, ``PT-PT`` or ``PT-BR``); we ask for the European one, and for
others the plain code where DeepL lists it, otherwise its first variety."""

from pyramid.exceptions import ConfigurationError

from consultroom_translation.translators import PREFIX, TranslationFailed, base_language
from consultroom_translation.translators.http import HttpTranslator, checked_url

FREE_URL = "https://api-free.deepl.com"
PRO_URL = "https://api.deepl.com"
PREFERRED_TARGETS = {"en": "EN-GB", "pt": "PT-PT"}


class DeepL(HttpTranslator):
    name = "deepl"

    def __init__(self, auth_key, url="", timeout=5.0):
        auth_key = (auth_key or "").strip()
        if not auth_key:
            raise ConfigurationError(f"{PREFIX}deepl_auth_key: the DeepL API key is required")
        url = url or (FREE_URL if auth_key.endswith(":fx") else PRO_URL)
        super().__init__(checked_url(PREFIX + "deepl_url", url), timeout)
        self._auth_key = auth_key
        self._targets = {}

    def _headers(self):
        return {"Authorization": f"DeepL-Auth-Key {self._auth_key}"}

    def _fetch_pairs(self):
        sources = {base_language(x["language"]) for x in self._languages("source")}
        targets = {}
        for code in sorted(x["language"] for x in self._languages("target")):
            base = base_language(code)
            if code.upper() in (base.upper(), PREFERRED_TARGETS.get(base)):
                targets[base] = code.upper()
            else:
                targets.setdefault(base, code.upper())
        self._targets = targets
        return {(s, t) for s in sources for t in targets if s != t}

    def _languages(self, kind):
        answer = self.request("GET", "/v2/languages", params={"type": kind})
        if not isinstance(answer, list):
            raise TranslationFailed("bad language list")
        return answer

    def _translate(self, text, source, target):
        body = {"text": [text], "source_lang": source.upper(), "target_lang": self._targets[target]}
        answer = self.request("POST", "/v2/translate", json=body)
        try:
            result = answer["translations"][0]["text"]
        except (TypeError, KeyError, IndexError):
            raise TranslationFailed("no translations in the answer") from None
        if not isinstance(result, str) or not result.strip():
            raise TranslationFailed("empty translation")
        return result
