"""Speech for the captions tests: a WAV said by espeak-ng, resampled by sox
to what the engine and Chromium's fake microphone take (16 kHz mono s16)."""

import subprocess
import wave
from pathlib import Path


def say(text: str, path: Path, pad_before: float = 0.5, pad_after: float = 1.0) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        [
            "sox",
            # No dither: sox's is random, so the same sentence would be
            # different audio in every run, and Whisper tiny now and then
            # mishears one of them (1 in 30 seen).
            "--no-dither",
            str(raw),
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            str(path),
            "pad",
            str(pad_before),
            str(pad_after),
        ],
        check=True,
    )
    raw.unlink()
    return path


def pcm_of(path: Path) -> bytes:
    with wave.open(str(path)) as wav:
        return wav.readframes(wav.getnframes())
