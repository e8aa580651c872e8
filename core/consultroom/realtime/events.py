"""What one socket transaction announces: bus messages published after the
commit (``Events``), and work that must see the transaction's final state
before it commits (``finish_with``: a feature turns what changed into
messages once, however often it changed)."""

from dataclasses import dataclass, field


@dataclass
class Events:
    """Bus messages to publish after the commit, in order. ``limits``: the
    socket's (``grace_seconds`` decides who still counts as present);
    ``request``: the socket's (its organisation's hooks)."""

    limits: object = None
    request: object = None
    messages: list = field(default_factory=list)
    finishers: dict = field(default_factory=dict)

    def add(self, channel, message):
        self.messages.append((channel, message))

    def finish_with(self, key, finisher):
        """Call ``finisher(dbsession, events)`` once per ``key`` at the end of
        the transaction, before the commit (the last one given for a key)."""
        self.finishers[key] = finisher

    def finish(self, dbsession):
        while self.finishers:
            finisher = self.finishers.pop(next(iter(self.finishers)))
            finisher(dbsession, self)
