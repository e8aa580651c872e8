"""Recognising speech for captions (plugins/translation): the voice-activity
segmenter cuts speech from silence and noise, and the default engine
(faster-whisper with the bundled Whisper tiny.en) reads back what espeak-ng
said; silence and noise give no caption."""

import numpy as np
import pytest
from consultroom_translation.engine import (
    EngineUnavailable,
    WhisperEngine,
    default_model_dir,
    engine_from_settings,
)
from consultroom_translation.segments import SAMPLE_RATE, Segmenter
from translation_speech import pcm_of, say

pytestmark = pytest.mark.sqlite_only  # no database

SECOND = SAMPLE_RATE * 2


@pytest.fixture(scope="module")
def engine():
    return engine_from_settings({})


@pytest.fixture(scope="module")
def sentence(tmp_path_factory):
    wav = tmp_path_factory.mktemp("speech") / "sentence.wav"
    return pcm_of(say("The patient has a headache since Monday morning", wav))


def test_the_default_model_is_the_bundled_tiny_english_one():
    assert (default_model_dir() / "model.bin").is_file()


def test_a_directory_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(EngineUnavailable, match="model_dir"):
        WhisperEngine(tmp_path)


def test_speech_is_one_segment_and_silence_none(sentence):
    segmenter = Segmenter()
    segments = segmenter.feed(b"\0" * SECOND + sentence + b"\0" * SECOND)
    assert len(segments) == 1
    assert 2 * SECOND < len(segments[0]) < 5 * SECOND
    assert Segmenter().feed(b"\0" * 10 * SECOND) == []


def test_a_long_sentence_is_cut_as_it_goes(sentence):
    segmenter = Segmenter(max_seconds=1.5)
    assert len(segmenter.feed(sentence)) >= 2


def test_the_engine_reads_back_what_was_said(engine, sentence):
    text = engine.transcribe(Segmenter().feed(sentence + b"\0" * SECOND)[0], "en").lower()
    for word in ("headache", "monday", "morning"):
        assert word in text


def test_noise_and_silence_give_no_caption(engine):
    noise = np.random.default_rng(1).normal(0, 1500, 2 * SAMPLE_RATE).astype(np.int16)
    assert engine.transcribe(noise.tobytes(), "en") == ""
    assert engine.transcribe(b"\0" * SECOND, "en") == ""
    assert engine.transcribe(b"", "en") == ""
