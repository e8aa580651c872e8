"""The Redis bus's bookkeeping of the other processes' channels
(consultroom.realtime.interest), without Redis."""

import pytest

from consultroom.realtime.interest import EVERYTHING, Interests

pytestmark = pytest.mark.sqlite_only  # no database

A, B = b"a" * 16, b"b" * 16


def test_before_the_directory_is_read_everything_goes_to_redis_and_alone_nothing():
    interests = Interests()
    assert not interests.synced
    assert interests.needs_redis("room:1")
    assert interests.alive(set()) == set()
    assert interests.synced
    assert not interests.needs_redis("room:1")


def interests_read():
    """Interests of a process that has read the directory."""
    interests = Interests()
    interests.alive(set())
    return interests


def test_a_process_found_in_the_directory_makes_everything_go_to_redis_until_its_list_comes():
    interests = interests_read()
    assert interests.alive({A}) == {A}
    assert not interests.synced
    assert interests.needs_redis("room:1")
    assert interests.alive({A}) == set()  # known: not asked again
    interests.listed(A, {"room:2"})
    assert interests.synced
    assert not interests.needs_redis("room:1")
    assert interests.needs_redis("room:2")


def test_channels_gained_and_lost_are_counted_per_process():
    interests = interests_read()
    interests.listed(A, set())
    interests.listed(B, set())
    interests.gained(A, "room:1")
    interests.gained(A, "room:1")  # once per process
    interests.gained(B, "room:1")
    interests.lost(A, "room:1")
    assert interests.needs_redis("room:1")
    interests.lost(B, "room:1")
    interests.lost(B, "room:1")
    assert not interests.needs_redis("room:1")


def test_a_list_replaces_what_was_known_of_that_process():
    interests = interests_read()
    interests.listed(A, {"room:1", "user:2"})
    interests.listed(A, {"user:2", "user:3"})
    assert [interests.needs_redis(c) for c in ("room:1", "user:2", "user:3")] == [False, True, True]


def test_a_process_gone_from_the_directory_or_saying_goodbye_is_forgotten():
    interests = interests_read()
    interests.alive({A, B})
    interests.listed(A, {"room:1"})
    interests.listed(B, {"room:2"})
    interests.alive({A})  # B's entry expired
    assert not interests.needs_redis("room:2")
    interests.gone(A)
    assert not interests.needs_redis("room:1")
    assert interests.synced


def test_after_a_broken_subscription_every_process_is_unsynced_again():
    interests = interests_read()
    interests.listed(A, {"room:1"})
    interests.forget_lists()
    assert interests.needs_redis("room:9")
    interests.listed(A, {"room:1"})
    assert not interests.needs_redis("room:9")


def both_listed(interests):
    """A and B alive, and their lists heard."""
    interests.alive({A, B})
    interests.listed(A, set())
    interests.listed(B, set())


def test_an_announcement_waits_for_every_process_alive():
    interests = interests_read()
    ident, done = interests.expect()
    assert done.is_set()  # nobody else
    interests.finished(ident)
    both_listed(interests)
    ident, done = interests.expect()
    assert not interests.acknowledged(A, ident)
    assert not done.is_set()
    interests.gone(B)  # a process that died acknowledges nothing
    assert done.is_set()


def test_an_acknowledgement_after_the_wait_gave_up_says_messages_may_be_lost():
    interests = interests_read()
    both_listed(interests)
    ident, done = interests.expect()
    assert not interests.acknowledged(B, ident)
    interests.give_up(ident)
    assert interests.acknowledged(A, ident)
    assert not interests.acknowledged(A, ident)  # once


def test_a_process_that_let_a_wait_time_out_is_not_waited_for_until_heard_from():
    interests = interests_read()
    both_listed(interests)
    first, _ = interests.expect()
    interests.acknowledged(B, first)
    interests.give_up(first)  # A did not answer: it may have died
    second, done = interests.expect()
    interests.acknowledged(B, second)
    assert done.is_set()  # B only
    assert interests.acknowledged(A, second)  # late: a resync
    third, done = interests.expect()
    interests.acknowledged(B, third)
    assert not done.is_set()  # A was heard from: waited for again
    interests.gone(A)
    assert done.is_set()


def test_a_process_that_lists_everything_gets_every_message():
    interests = interests_read()
    interests.listed(A, {EVERYTHING})
    assert interests.needs_redis("room:1")
    interests.listed(A, set())
    assert not interests.needs_redis("room:1")
    interests.listed(B, {EVERYTHING})
    interests.gone(B)
    assert not interests.needs_redis("room:1")


def test_a_process_heard_of_by_its_hello_is_unsynced_until_its_answer_comes():
    interests = interests_read()
    assert not interests.heard_of(A)
    assert interests.heard_of(A)
    assert interests.needs_redis("room:1")
    interests.listed(A, set())
    assert not interests.needs_redis("room:1")


def test_a_process_heard_of_before_the_directory_was_read_stays_unsynced():
    interests = Interests()
    interests.heard_of(A)
    interests.heard_of(B)
    interests.listed(B, set())
    interests.alive({A, B})
    assert not interests.synced
    interests.listed(A, set())
    assert interests.synced


def test_a_process_heard_of_while_the_directory_is_read_is_not_forgotten():
    """Its hello can come while this process reads the directory, from a
    read made before the new process's entry was written: its absence
    from that read says nothing."""
    interests = interests_read()
    interests.alive({A})
    interests.listed(A, {"room:1"})
    read_after = interests.mark()
    interests.heard_of(B)
    interests.listed(B, {"room:2"})
    interests.alive(set(), read_after)
    assert not interests.needs_redis("room:1")  # A, known before the read, is gone
    assert interests.needs_redis("room:2")
    assert interests.synced
    interests.alive(set(), interests.mark())  # a later read without B
    assert not interests.needs_redis("room:2")
