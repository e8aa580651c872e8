"""Chat message relay latency in a consultation room, with 1,000 idle
sockets connected, against the signalling relay measured in the same run.

A practitioner and a client in a room, both sockets in this process (one
clock): the practitioner sends a chat message (``chat.send``) and the time
until the client's socket has it (``chat.message``) is measured; the
baseline is the same pair's signalling relay (an ICE candidate, ``signal``),
which touches no database. A chat message is validated and relayed first,
then encrypted and written (one transaction) by the same socket's handler:
the ratio is what chat costs on the relay's path, which the commit should
not be on (consultroom_chat.sockets: optimistic relay with retraction).

Each message, of either kind, is sent once the sender's socket has handled
everything before it (a ``ping`` sent and its ``pong`` heard, untimed), as
a person's messages come: a socket may send 20 a second. Back to back, a
message would wait for the previous one's write, which measures how many
a socket can write a second, not how long a relay takes.

The application runs as in production: gunicorn with gevent-websocket's
worker, the Redis bus, on a fresh SQLite database or, with ``--db``, a fresh
database on that PostgreSQL server, with chat enabled for its organisation
and ``--idle`` idle staff sockets. The two take turns ``--rounds`` times;
printed are min/median/max of each round's p50 and p99, and the ratio of the
medians.

    .venv-test/bin/python benchmarks/chat_latency.py [--idle 1000] [--messages 1000]
        [--rounds 3] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402

import gevent.event  # noqa: E402
from signalling_latency import CANDIDATE, relayed  # noqa: E402

from consultroom.plugins.models import PluginEnablement  # noqa: E402

from figures import figure  # noqa: E402
from realtime_support import (  # noqa: E402
    AppServer,
    Crowd,
    call_in,
    percentile,
    raise_open_files_limit,
    spread,
    stack,
    waiting_visit,
)

SETTINGS = {"in_waiting_room": False, "delete_after_consultation": False, "delete_after_days": 0}
TEXT = "Could you hold the leaflet closer to the camera? https://example.org/leaflet"


def room(app):
    """The practitioner's and the client's sockets, in one room."""
    practitioner = app.staff()
    staff_sock, _ = app.staff_socket(app.log_in(practitioner))
    client_sock, _ = app.client_socket(app.appointment(practitioner=practitioner))
    _, client_peer = call_in(staff_sock, client_sock, waiting_visit(client_sock))
    return staff_sock, client_sock, client_peer


class Settled:
    """The sender's socket, idle again: its ``ping``'s ``pong`` comes after
    everything it was sent before has been handled. ``heard`` is its
    reader's ``on_message``."""

    def __init__(self, sock):
        self.sock = sock
        self.answered = gevent.event.Event()

    def heard(self, index, message, when):
        if message.get("type") == "pong":
            self.answered.set()

    def __call__(self):
        self.answered.clear()
        self.sock.send({"type": "ping"})
        if not self.answered.wait(timeout=30):
            raise RuntimeError("the sender's socket did not answer a ping")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets")
    parser.add_argument("--messages", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args(argv)
    args.bus, args.runner = "redis", "gunicorn"
    raise_open_files_limit()

    app = AppServer(db=args.db, runner=args.runner, **{"realtime.bus": args.bus})
    crowds = []
    try:
        app.db.add(
            PluginEnablement(
                organisation_id=app.org.id, plugin="chat", enabled=True, settings=SETTINGS
            )
        )
        app.db.commit()
        cookie = app.log_in(app.staff(name="Idle"))
        crowds.append(Crowd(lambda: app.staff_socket(cookie)[0], args.idle))
        staff_sock, client_sock, client_peer = room(app)
        # The sender hears its own messages too: read them away, but for
        # the answers to its pings.
        settled = Settled(staff_sock)
        crowds.append(Crowd(lambda: staff_sock, 1, on_message=settled.heard))
        signal = {"type": "signal", "to": client_peer, "data": {"candidate": CANDIDATE}}
        chat = {"type": "chat.send", "text": TEXT}
        measure = {
            "signalling relay (baseline)": relayed(
                staff_sock, client_sock, signal, "signal", settled
            ),
            "chat message relay": relayed(staff_sock, client_sock, chat, "chat.message", settled),
        }
        results = {name: [] for name in measure}
        for _ in range(args.rounds):
            for name, run in measure.items():
                times = run(args.messages)
                results[name].append((percentile(times, 50), percentile(times, 99)))
    finally:
        for crowd in crowds:
            crowd.close()
        app.stop()

    print(
        f"idle sockets: {args.idle}, {args.rounds} rounds of {args.messages} messages,"
        f" {stack(args)}"
    )
    (base_name, base_rounds), (name, rounds) = results.items()
    medians = {}
    for label, runs in ((base_name, base_rounds), (name, rounds)):
        medians[label] = (
            statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs),
        )
        print(
            f"{label:28} p50 {spread([r[0] for r in runs], ' ms', 3)}"
            f" | p99 {spread([r[1] for r in runs], ' ms', 3)}"
        )
    base, chat = medians[base_name], medians[name]
    ratios = (chat[0] / base[0], chat[1] / base[1])
    print(f"ratio p50 {ratios[0]:.2f} p99 {ratios[1]:.2f}")
    figure(
        f"chat message relay, {args.idle:,} idle sockets",
        f"p50 {ratios[0]:.2f}× ({chat[0]:.3f} ms), p99 {ratios[1]:.2f}× ({chat[1]:.3f} ms)",
        f"signalling relay: p50 {base[0]:.3f} ms, p99 {base[1]:.3f} ms",
        "p50 ≤ 1.2×",
        ratios[0] <= 1.2,
    )


if __name__ == "__main__":
    main()
