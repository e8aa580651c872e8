"""Cutting a participant's audio into segments of speech for the engine:
energy-based voice-activity detection on 16 kHz mono s16le in 30 ms frames.

A segment starts when a frame is clearly louder than the track's noise floor
and ends after ``hangover`` quiet frames, or when it reaches ``max_seconds``
(so that a long sentence is captioned as it goes rather than at its end).
The floor follows the quiet frames, so a steady hiss or hum is not speech.
"""

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE * 30 // 1000 * 2  # bytes in 30 ms of s16le mono


def loudness(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


@dataclass
class Segmenter:
    """Feed it PCM with :meth:`feed`; it returns the segments finished."""

    min_level: float = 300.0  # below this RMS (of 32768) nothing is speech
    ratio: float = 3.0  # speech is this many times louder than the floor
    hangover: int = 12  # quiet frames (360 ms) that end a segment
    max_seconds: float = 8.0
    min_frames: int = 8  # shorter bursts (a click, a cough) are dropped
    floor: float = 100.0
    _pending: bytes = b""
    _speech: list[bytes] = field(default_factory=list)
    _quiet: int = 0
    _loud: int = 0

    def feed(self, pcm: bytes) -> list[bytes]:
        finished = []
        data = self._pending + pcm
        whole = len(data) - len(data) % FRAME
        self._pending = data[whole:]
        for start in range(0, whole, FRAME):
            segment = self._frame(data[start : start + FRAME])
            if segment:
                finished.append(segment)
        return finished

    def flush(self) -> bytes | None:
        """What is left when the track ends."""
        return self._finish()

    def _frame(self, frame: bytes) -> bytes | None:
        level = loudness(frame)
        loud = level > max(self.min_level, self.floor * self.ratio)
        if not loud:
            # The floor moves slowly towards what quiet sounds like here.
            self.floor = 0.95 * self.floor + 0.05 * level
        if not self._speech:
            if loud:
                self._speech, self._quiet, self._loud = [frame], 0, 1
            return None
        self._speech.append(frame)
        self._quiet = 0 if loud else self._quiet + 1
        self._loud += loud
        too_long = len(self._speech) * FRAME >= self.max_seconds * SAMPLE_RATE * 2
        if self._quiet >= self.hangover or too_long:
            return self._finish()
        return None

    def _finish(self) -> bytes | None:
        speech, loud = self._speech, self._loud
        self._speech, self._quiet, self._loud = [], 0, 0
        if loud < self.min_frames:
            return None
        return b"".join(speech)
