"""What plugins put on staff lists' rows and waiting entries is kept short
and in one of three tones, whatever they return (web.badges)."""

from dataclasses import dataclass

import pytest

from consultroom.hookspecs import ListBadge, WaitingAnnotation
from consultroom.web.badges import MAX_TEXT, collect

pytestmark = pytest.mark.sqlite_only


@dataclass
class Loud:
    row_id: int
    text: str
    tone: str = "alarm"


def test_badges_are_grouped_by_row_cut_and_toned_down():
    found = collect(
        [
            [ListBadge(1, "2 new messages", "warning", "/messages/5"), Loud(2, "x" * 100)],
            None,
            [ListBadge(1, "paid", "ok")],
        ],
        "row_id",
    )
    assert found == {
        1: [
            {"text": "2 new messages", "tone": "warning", "url": "/messages/5"},
            {"text": "paid", "tone": "ok"},
        ],
        2: [{"text": "x" * MAX_TEXT, "tone": "info"}],
    }


def test_waiting_annotations_go_the_same_way():
    found = collect([[WaitingAnnotation(7, "consent pending", "warning")]], "appointment_id")
    assert found == {7: [{"text": "consent pending", "tone": "warning"}]}
