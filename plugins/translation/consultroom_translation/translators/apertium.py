"""Apertium, offline on this server: Debian packages one pair per package
(``apt-get install apertium apertium-eng-spa``), each installing a *mode*
per direction (``eng-spa``, ``spa-eng``, sometimes a variant such as
``spa-eng_US``). ``apertium -l`` lists the installed modes; the pairs are
read from their names, ISO 639-3 (``eng``) or, in older packages, 639-1
(``en``), so a pair installed later is picked up without a restart.

The ``apertium`` command is run without a shell, with the mode as a fixed
argument and the text on standard input, under a timeout."""

import re
import subprocess  # a fixed command list, no shell, text on stdin  # nosec B404
import threading
import time

from consultroom_translation.translators import TranslationFailed, Translator

# ISO 639-3 names Apertium's modes use, for the languages it has pairs of.
ISO_639_3 = {
    "afr": "af", "arg": "an", "cat": "ca", "dan": "da", "deu": "de", "eng": "en",
    "epo": "eo", "eus": "eu", "fra": "fr", "glg": "gl", "isl": "is", "ita": "it",
    "mkd": "mk", "nld": "nl", "nno": "nn", "nob": "nb", "nor": "no", "oci": "oc",
    "por": "pt", "ron": "ro", "spa": "es", "swe": "sv",
}  # fmt: skip
MODE = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})(_[A-Za-z_]+)?$")
# Marks Apertium leaves on words it could not handle (-u removes only "*"):
# "#" a word it could not generate, "@" one transfer did not know.
MARKS = re.compile(r"(?<!\S)[#@](?=\w)")
MODES_SECONDS = 300  # how long the list of installed modes is believed


def pair_of(mode):
    """``("en", "es")`` for the mode ``eng-spa`` (or ``en-es``); None for a
    mode that is not a plain translation direction or a language we do not
    know the code of."""
    match = MODE.match(mode)
    if not match:
        return None
    codes = [ISO_639_3.get(part, part if len(part) == 2 else None) for part in match.group(1, 2)]
    return None if None in codes else tuple(codes)


class Apertium(Translator):
    name = "apertium"

    def __init__(self, command="apertium", timeout=5.0):
        self.command = command
        self.timeout = timeout
        self._lock = threading.Lock()
        self._modes = {}
        self._modes_until = 0.0

    def modes(self):
        """``{(source, target): mode}`` of the installed pairs; a variant
        mode (``spa-eng_US``) only where the pair has no plain one."""
        with self._lock:
            if time.monotonic() >= self._modes_until:
                self._modes = self._read_modes()
                self._modes_until = time.monotonic() + MODES_SECONDS
            return dict(self._modes)

    def _read_modes(self):
        try:
            done = subprocess.run(  # fixed arguments, no shell  # nosec B603
                [self.command, "-l"], capture_output=True, text=True, timeout=self.timeout
            )
        except (OSError, subprocess.SubprocessError):
            return {}  # not installed: no pairs, every caption untranslated
        modes = {}
        for mode in sorted(done.stdout.split(), key=lambda m: ("_" in m, m)):
            pair = pair_of(mode)
            if pair and pair not in modes:
                modes[pair] = mode
        return modes

    def pairs(self):
        return frozenset(self.modes())

    def _translate(self, text, source, target):
        mode = self.modes()[(source, target)]
        try:
            done = subprocess.run(  # fixed arguments, no shell, text on stdin  # nosec B603
                [self.command, "-u", mode],
                input=" ".join(text.split()),  # one line: a caption has no layout to keep
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise TranslationFailed("timed out") from None
        except (OSError, subprocess.SubprocessError) as exc:
            raise TranslationFailed(f"could not run: {type(exc).__name__}") from None
        if done.returncode != 0:
            raise TranslationFailed(f"exit status {done.returncode}")
        result = MARKS.sub("", done.stdout).strip()
        if not result:
            raise TranslationFailed("empty output")
        return result
