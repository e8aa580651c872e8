"""Which channels the other app processes have subscribers of.

The Redis bus (consultroom.realtime.bus) asks ``needs_redis(channel)`` for
every message: a message goes to Redis only when another process may have
a subscriber of its channel. Most do not: a consultation's sockets, a staff
member's, a waiting section's watchers are often all in one process, and
with one process none are elsewhere.

What a process knows of another comes in the order that process sent it,
through the shared Redis channel: its whole list of channels (``listed``,
in answer to this process's hello, so made while it knew of this one),
then each channel it gains or loses. A process found alive in the
directory (a Redis hash each process refreshes) or heard of by its own
hello, whose list has not come yet, is *unsynced*: while there is one,
and before the directory was first read (a process just started, such as
a worker publishing one message), every message goes to Redis, as it would
without this bookkeeping.

A channel gained is announced, and ``subscribe`` returns only once every
process known alive has acknowledged it (``expect`` / ``acknowledged``):
from then on their messages on it come through Redis. An acknowledgement
that comes after the wait gave up means messages may have been lost: the
bus makes every socket resync, as after a Redis restart.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

# A process's list that is this one channel wants every message (its bus does
# not keep interests: consultroom.realtime.bus.make_bus).
EVERYTHING = "*"


class Interests:
    """The other processes' channels, kept by the bus's listener thread and
    read by every publisher."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[bytes, set[str]] = {}  # process -> its channels
        # Alive, its list not yet heard; None: the directory not read yet
        # (a process just started knows nothing of the others).
        self._unsynced: set[bytes] | None = None
        self._listed: set[bytes] = set()  # their lists came
        self._wanted: defaultdict[str, int] = defaultdict(int)  # channel -> processes
        self._everything: set[bytes] = set()  # processes that want every message
        self._ids = itertools.count(1)
        self._waits: dict[int, tuple[set[bytes], threading.Event]] = {}
        self._late: dict[int, set[bytes]] = {}  # id -> processes not heard in time
        self._suspects: set[bytes] = set()  # let a wait time out; not heard since
        # process -> when it became known, in a count of processes that did
        # (compared with a mark() taken before the directory is read).
        self._known_since: dict[bytes, int] = {}
        self._known_count = 0

    def needs_redis(self, channel: str) -> bool:
        """Whether another process may have a subscriber of ``channel``."""
        unsynced = self._unsynced
        if unsynced is None or unsynced or self._everything:
            return True
        return self._wanted.get(channel, 0) > 0

    @property
    def synced(self) -> bool:
        return self._unsynced == set()

    @property
    def peers(self) -> int:
        """How many other processes' lists came (and they are still alive)."""
        return len(self._listed)

    # -- what the other processes said ---------------------------------------

    def listed(self, process: bytes, channels: set[str]) -> None:
        """``process`` sent its whole list: it replaces what was known."""
        with self._lock:
            self._suspects.discard(process)
            self._replace(process, channels)
            self._listed.add(process)
            if self._unsynced is not None:
                self._unsynced.discard(process)

    def heard_of(self, process: bytes) -> bool:
        """A process made itself known (its hello); whether it was known.
        One not known is unsynced until the list it sends in answer to
        this process's own hello comes."""
        with self._lock:
            if process in self._channels:
                return True
            self._channels_of(process)
            if self._unsynced is not None:
                self._unsynced.add(process)
            return False

    def gained(self, process: bytes, channel: str) -> None:
        with self._lock:
            self._suspects.discard(process)
            channels = self._channels_of(process)
            if channel not in channels:
                channels.add(channel)
                self._wanted[channel] += 1

    def lost(self, process: bytes, channel: str) -> None:
        with self._lock:
            channels = self._channels.get(process)
            if channels is not None and channel in channels:
                channels.discard(channel)
                self._drop_wanted(channel)

    def gone(self, process: bytes) -> None:
        """``process`` said goodbye, or its directory entry expired."""
        with self._lock:
            self._replace(process, set())
            del self._channels[process]
            del self._known_since[process]
            self._listed.discard(process)
            if self._unsynced is not None:
                self._unsynced.discard(process)
            for waiting, done in self._waits.values():
                waiting.discard(process)
                if not waiting:
                    done.set()
            self._suspects.discard(process)
            for ident, late in list(self._late.items()):
                late.discard(process)
                if not late:
                    del self._late[ident]

    def mark(self) -> int:
        """Taken before the directory is read, and given to ``alive``."""
        with self._lock:
            return self._known_count

    def alive(self, processes: set[bytes], read_after: int | None = None) -> set[bytes]:
        """The directory lists ``processes`` (this one left out): those not
        known before are unsynced until their list comes; returned, to be
        asked for it. Known ones missing from the directory are gone, except
        those that became known after ``read_after`` (a ``mark()``): the
        listener may hear a new process's hello while the directory is
        read, and its entry may be newer than the read."""
        with self._lock:
            if self._unsynced is None:
                self._unsynced = self._channels.keys() - self._listed
            new = processes - self._channels.keys()
            for process in new:
                self._channels_of(process)
                self._unsynced.add(process)
            missing = {
                process
                for process in self._channels.keys() - processes
                if read_after is None or self._known_since[process] <= read_after
            }
        for process in missing:
            self.gone(process)
        return new

    def forget_lists(self) -> None:
        """Announcements may have been missed (the subscription broke): every
        process known is unsynced until it sends its list again."""
        with self._lock:
            self._unsynced = set(self._channels)
            self._listed.clear()

    # -- waiting for acknowledgements ----------------------------------------

    def expect(self) -> tuple[int, threading.Event]:
        """An announcement's id, and the event set once every process alive
        now has acknowledged it. A process that let an earlier wait time
        out is not waited for again until it is heard from: its
        acknowledgement counts as late (a process that died keeps its
        directory entry for ``EXPIRY``; subscriptions must not each wait
        for it meanwhile)."""
        with self._lock:
            ident = next(self._ids)
            done = threading.Event()
            suspects = self._suspects & self._channels.keys()
            waiting = self._channels.keys() - suspects
            if not waiting:
                done.set()
            self._waits[ident] = (waiting, done)
            if suspects:
                self._late[ident] = suspects
        return ident, done

    def give_up(self, ident: int) -> None:
        """The wait for ``ident`` timed out: the processes not heard are
        suspects, whose acknowledgement will say it came late."""
        with self._lock:
            waiting, _done = self._waits.pop(ident, (set(), None))
            if waiting:
                self._suspects |= waiting
                self._late.setdefault(ident, set()).update(waiting)

    def finished(self, ident: int) -> None:
        with self._lock:
            self._waits.pop(ident, None)

    def acknowledged(self, process: bytes, ident: int) -> bool:
        """``process`` acknowledged announcement ``ident``; whether it came
        late (messages it sent on the channel meanwhile may be lost)."""
        with self._lock:
            self._suspects.discard(process)
            late = self._late.get(ident)
            if late is not None and process in late:
                late.discard(process)
                if not late:
                    del self._late[ident]
                return True
            waiting, done = self._waits.get(ident, (set(), None))
            waiting.discard(process)
            if done is not None and not waiting:
                done.set()
        return False

    # -- inside the lock -----------------------------------------------------

    def _channels_of(self, process: bytes) -> set[str]:
        """``process``'s channels; a process not known yet is known from
        now on, stamped for ``alive``."""
        channels = self._channels.get(process)
        if channels is None:
            self._known_count += 1
            self._known_since[process] = self._known_count
            channels = self._channels[process] = set()
        return channels

    def _replace(self, process: bytes, channels: set[str]) -> None:
        if EVERYTHING in channels:
            self._everything.add(process)
        else:
            self._everything.discard(process)
        before = self._channels_of(process)
        for channel in before - channels:
            self._drop_wanted(channel)
        for channel in channels - before:
            self._wanted[channel] += 1
        self._channels[process] = set(channels)

    def _drop_wanted(self, channel: str) -> None:
        self._wanted[channel] -= 1
        if self._wanted[channel] <= 0:
            del self._wanted[channel]
