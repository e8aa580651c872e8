"""Running the real media server (``consultroom media``) from tests and
benchmarks: a subprocess on a free loopback port, with its own ini file."""

import json
import subprocess  # starts our own command, below  # nosec B404
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from consultroom.testing import free_port, stop_process

COMMAND = Path(sys.executable).parent / "consultroom"


@dataclass
class MediaProcess:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self):
        return self.log.read_text()

    def health(self):
        # An http:// URL on loopback that we made.
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # nosec B310
            return json.loads(response.read())


def _wait_until_up(media, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if media.process.poll() is not None:
            raise RuntimeError(f"consultroom media exited: {media.output()}")
        try:
            return media.health()
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"consultroom media did not answer within {timeout} s")


@contextmanager
def media_server(folder, timeout=20, **settings):
    """``consultroom media`` with ``media.<name> = value`` for each of
    ``settings`` (``ice_addresses="127.0.0.1"``, ``max_peers=1``...)."""
    url = f"http://127.0.0.1:{free_port()}"
    lines = ["[app:main]", "use = egg:consultroom", f"media.url = {url}"]
    lines += [f"media.{name} = {value}" for name, value in settings.items()]
    ini = Path(folder) / "media.ini"
    ini.write_text("\n".join(lines) + "\n")
    log = Path(folder) / "media.log"
    with log.open("w") as out:
        # Our own console script and a file we wrote: no untrusted input.
        process = subprocess.Popen(
            [COMMAND, "-c", ini, "media"],
            stdout=out,  # nosec B603
            stderr=subprocess.STDOUT,
        )
    media = MediaProcess(url, process, log)
    try:
        _wait_until_up(media, timeout)
        yield media
    finally:
        stop_process(process)
