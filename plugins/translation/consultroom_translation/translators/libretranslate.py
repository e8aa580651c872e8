"""LibreTranslate, self-hosted: ``GET /languages`` lists each language with
the targets it translates into, ``POST /translate`` takes ``q``, ``source``,
``target``, ``format`` and, where the server requires one, ``api_key``,
and answers ``{"translatedText": ...}`` (an error: ``{"error": ...}`` with
status 400, 403, 429 or 500)."""

from consultroom_translation.translators import PREFIX, TranslationFailed, base_language
from consultroom_translation.translators.http import HttpTranslator, checked_url


class LibreTranslate(HttpTranslator):
    name = "libretranslate"

    def __init__(self, url, api_key="", timeout=5.0):
        super().__init__(checked_url(PREFIX + "libretranslate_url", url), timeout)
        self._api_key = api_key.strip()

    def _fetch_pairs(self):
        pairs = set()
        for language in self.request("GET", "/languages"):
            source = base_language(language["code"])
            pairs.update((source, base_language(t)) for t in language["targets"])
        return {(s, t) for s, t in pairs if s != t}

    def _translate(self, text, source, target):
        body = {"q": text, "source": source, "target": target, "format": "text"}
        if self._api_key:
            body["api_key"] = self._api_key
        answer = self.request("POST", "/translate", json=body)
        result = answer.get("translatedText") if isinstance(answer, dict) else None
        if not isinstance(result, str) or not result.strip():
            raise TranslationFailed("no translatedText in the answer")
        return result
