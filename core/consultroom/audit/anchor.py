"""Checkpoints that anchor the audit chains outside the database.

The hash chain shows a changed row only to someone who cannot recompute it:
with write access to the database one can disable the append-only trigger,
edit a row, recompute every later hash and the chain head, and the chain
verifies again. A checkpoint records every chain's length and head hash at
one moment, signed with HMAC-SHA256 under ``audit.anchor_key`` (a secret the
database does not hold), as one JSON line appended to ``audit.anchor_file``
and logged to the ``consultroom.audit.anchor`` logger (which a log sink may
carry elsewhere). An entry's hash covers every entry before it, so a chain
recomputed after a checkpoint no longer has the hash it recorded at that seq.

``audit.anchor_key`` holds one or more keys separated by whitespace: the
first signs, every one verifies, so a key is rotated by putting a new one in
front (keep the old one while checkpoints it signed are in the file).
"""

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from consultroom.audit.chain import Mark, canonical_json
from consultroom.audit.models import AuditChain
from consultroom.db import utcnow

KEY, FILE, MINUTES = "audit.anchor_key", "audit.anchor_file", "audit.anchor_minutes"
MIN_KEY_LENGTH = 32

log = logging.getLogger(__name__)


class AnchorError(Exception):
    """The anchor file cannot be read, or a checkpoint in it is not genuine."""


def _signature(key, checkpoint):
    return hmac.new(key, canonical_json(checkpoint).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    keys: tuple = field(repr=False)  # of bytes; the first signs; never logged
    path: Path
    minutes: float  # between the worker's checkpoints

    # ---- writing

    def checkpoint(self, dbsession):
        """Append a signed checkpoint of every chain head as committed now,
        and return it (unsigned)."""
        checkpoint = {
            "at": utcnow().isoformat(timespec="seconds") + "Z",
            "chains": [
                {"organisation_id": c.organisation_id, "length": c.length, "head_hash": c.head_hash}
                for c in dbsession.scalars(
                    select(AuditChain)
                    .where(AuditChain.length > 0)
                    .order_by(AuditChain.organisation_id)
                )
            ],
        }
        line = canonical_json({**checkpoint, "signature": _signature(self.keys[0], checkpoint)})
        self._append(line)
        log.info("audit checkpoint %s", line)
        return checkpoint

    def _append(self, line):
        # One write to a descriptor opened for appending: lines of workers
        # writing at the same moment do not interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def due(self, now=None):
        """Whether the last checkpoint is ``minutes`` old. The file's
        modification time says when it was written, whichever worker wrote it,
        across restarts and rounds run from cron."""
        try:
            written = self.path.stat().st_mtime
        except FileNotFoundError:
            return True
        return (now if now is not None else time.time()) - written >= self.minutes * 60

    def checkpoint_if_due(self, dbmaker):
        """For the worker: how many checkpoints it wrote (0 or 1). Failing to
        write is logged and leaves the worker's other jobs running."""
        if not self.due():
            return 0
        try:
            with dbmaker() as session:
                self.checkpoint(session)
        except OSError:
            log.exception("could not append the audit checkpoint to %s", self.path)
            return 0
        return 1

    # ---- reading

    def read(self):
        """``(marks, checkpoints)``: every checkpoint's chain heads as Marks
        by ``(organisation_id, seq)``, and how many checkpoints there are.
        AnchorError when the file is missing, a line is not a genuine
        checkpoint, or two of them disagree."""
        marks, checkpoints = {}, 0
        try:
            with self.path.open(encoding="utf-8") as lines:
                for checkpoints, line in enumerate(lines, 1):
                    self._add_marks(marks, line, f"line {checkpoints} of {self.path}")
        except FileNotFoundError:
            raise AnchorError(
                f"{self.path} does not exist: was it removed? (On a new"
                " installation `consultroom audit checkpoint` or the worker"
                " writes the first checkpoint.)"
            ) from None
        except OSError as exc:
            raise AnchorError(f"cannot read {self.path}: {exc.strerror}") from None
        return marks, checkpoints

    def _add_marks(self, marks, line, where):
        checkpoint = self._genuine(line, where)
        source = f"the checkpoint of {checkpoint['at']} ({where})"
        for chain in checkpoint["chains"]:
            key = chain["organisation_id"], chain["length"]
            earlier = marks.setdefault(key, Mark(chain["head_hash"], source))
            if earlier.hash != chain["head_hash"]:
                raise AnchorError(
                    f"{earlier.source} and {source} record different hashes"
                    f" for seq {key[1]} of organisation {key[0]}: its chain was"
                    " recomputed between them"
                )

    def _genuine(self, line, where):
        """The checkpoint on ``line``, if one of the keys signed it."""
        try:
            checkpoint = json.loads(line)
            signature = checkpoint.pop("signature")
            genuine = any(
                hmac.compare_digest(_signature(key, checkpoint), signature) for key in self.keys
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AnchorError(f"{where} is not a checkpoint") from None
        if not genuine:
            raise AnchorError(
                f"{where}: its signature was not made with {KEY}: the"
                " checkpoint was edited or forged (or signed with a key no"
                " longer configured)"
            )
        return checkpoint


def from_settings(settings):
    """The Anchor these settings configure, or None when they set neither
    ``audit.anchor_key`` nor ``audit.anchor_file``."""
    keys, path = settings.get(KEY, "").split(), settings.get(FILE, "").strip()
    if not keys and not path:
        return None
    if not (keys and path):
        raise ConfigurationError(f"set both {KEY} and {FILE}, or neither")
    if any(len(key) < MIN_KEY_LENGTH for key in keys):
        raise ConfigurationError(
            f"{KEY}: each key must have at least {MIN_KEY_LENGTH} characters (make one with:"
            " python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    try:
        minutes = float(settings.get(MINUTES, 60))
    except ValueError:
        minutes = 0
    if minutes <= 0:
        raise ConfigurationError(f"{MINUTES} must be a number of minutes above 0")
    return Anchor(tuple(key.encode() for key in keys), Path(path), minutes)


def includeme(config):
    config.registry["audit_anchor"] = from_settings(config.get_settings())
