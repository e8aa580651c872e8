"""Compiled templates kept on disk between processes (Jinja2's bytecode
cache): each app process otherwise compiles every template it renders once
more, about 2 seconds for all of them, in every worker of every start.

On by default, in a directory of the user's own under the system's temporary
directory (Jinja2 creates it private and refuses one that is not). Settings:
``jinja2.bytecode_caching = false`` turns it off;
``jinja2.bytecode_caching_directory`` puts the files elsewhere.

What Jinja2 compiles depends on the environment's options (``trim_blocks``,
the extensions, ``finalize``...), which its cache does not look at. So the
files are named for the ``jinja2.*`` settings and Jinja2's version too: an
installation with other options, or an upgrade, never reads another's code.
"""

import hashlib
import logging

import jinja2
from jinja2 import BytecodeCache, FileSystemBytecodeCache
from pyramid.settings import asbool

log = logging.getLogger(__name__)

ON = "jinja2.bytecode_caching"
DIRECTORY = "jinja2.bytecode_caching_directory"


class CompiledTemplates(FileSystemBytecodeCache):
    """A cache that cannot be read or written leaves the page rendering
    (compiled, not kept), with one warning."""

    warned = False

    def load_bytecode(self, bucket):
        try:
            super().load_bytecode(bucket)
        except OSError as exc:
            self._warn(exc)

    def dump_bytecode(self, bucket):
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            self._warn(exc)

    def _warn(self, exc):
        if not self.warned:
            self.warned = True
            log.warning("compiled templates are not kept in %s: %s", self.directory, exc)


def options_digest(settings):
    """A short digest of what the compiled code depends on."""
    options = sorted(
        (key, str(value))
        for key, value in settings.items()
        if key.startswith("jinja2.") and key not in (ON, DIRECTORY)
    )
    text = repr((jinja2.__version__, options))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def configure(settings):
    """Set ``jinja2.bytecode_caching`` to the cache (pyramid_jinja2 takes a
    cache object there), unless it is off; after the other ``jinja2.*``
    settings have their values."""
    wanted = settings.get(ON, "true")
    if isinstance(wanted, BytecodeCache) or not asbool(wanted):
        return
    pattern = f"consultroom-{options_digest(settings)}-%s.cache"
    try:
        settings[ON] = CompiledTemplates(settings.get(DIRECTORY) or None, pattern)
    except (OSError, RuntimeError) as exc:  # no private temporary directory
        log.warning("templates are compiled in each process: %s", exc)
        settings[ON] = "false"
