"""TURN proven, not assumed: Debian's coturn runs inside the test's network
namespace with the ``use-auth-secret`` scheme and the secret the application
signs its credentials with. An application server with ``turn.relay_only``
makes both Chromium pages use only relayed candidates: the consultation's
media flows through coturn (the selected candidate pair is relay on both
sides, and both decode video). And coturn itself refuses an allocation with
credentials whose time has run out, and one signed with another secret,
while it grants one to fresh credentials (aioice's TURN client).
"""

import asyncio
import secrets
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from conftest import PASSWORD
from playwright.sync_api import expect

from consultroom.realtime.turn import turn_credential
from consultroom.testing import free_port, stop_process, wait_for_port

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"

# The local and the remote candidate of every open connection's selected pair.
SELECTED_PAIRS_JS = """async () => {
  const out = [];
  for (const pc of window.__peerConnections || []) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    stats.forEach((r) => {
      if (r.type !== "transport" || !r.selectedCandidatePairId) return;
      const pair = byId.get(r.selectedCandidatePairId);
      out.push({
        local: byId.get(pair.localCandidateId).candidateType,
        remote: byId.get(pair.remoteCandidateId).candidateType,
        bytesReceived: pair.bytesReceived,
      });
    });
  }
  return out;
}"""


class Coturn:
    """``turnserver`` on 127.0.0.1 with a static auth secret (test only:
    loopback peers allowed, no TLS, no CLI)."""

    def __init__(self, tmp):
        self.port = free_port()
        self.secret = secrets.token_urlsafe(24)
        self.log = tmp / "turnserver.log"
        # The secret is on the command line only inside the test's namespace.
        self.process = subprocess.Popen(
            [
                TURNSERVER,
                "-n",
                "--use-auth-secret",
                f"--static-auth-secret={self.secret}",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}",
                "--realm=test",
                "--allow-loopback-peers",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                "--fingerprint",
                f"--log-file={self.log}",
                "--simple-log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)  # coturn listens on TCP too

    @property
    def url(self):
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def stop(self):
        stop_process(self.process)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    if not shutil.which(TURNSERVER):
        pytest.fail("coturn is not installed (apt-get install -y coturn)", pytrace=False)
    server = Coturn(tmp_path_factory.mktemp("coturn"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def relay_server(start_live_server, coturn):
    """An application server whose rooms hand out coturn's credentials and
    tell the browsers to use relayed candidates only."""
    return start_live_server(
        **{"turn.urls": coturn.url, "turn.secret": coturn.secret, "turn.relay_only": "true"}
    )


def _log_in(page, server, org, user):
    page.goto(server.url(org.subdomain, "/login"))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/login" not in page.url, page.content()


def _selected_pairs(page, poll):
    """The selected candidate pairs once media has crossed them."""
    poll(
        page,
        f"({SELECTED_PAIRS_JS})().then(p => p.length > 0 && p.every(x => x.bytesReceived > 0))",
    )
    return page.evaluate(SELECTED_PAIRS_JS)


def test_media_flows_through_coturn_when_relay_is_forced(
    relay_server, live_data, client_context, staff_context, wait_for_media, poll
):
    org = live_data.organisation(name="Relay clinic")
    doctor = live_data.user(org, name="Dr. Relay")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Visser")
    )
    client = client_context.new_page()
    client.goto(relay_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    staff = staff_context.new_page()
    _log_in(staff, relay_server, org, doctor)
    staff.goto(relay_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Visser")
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()

    for page in (client, staff):
        wait_for_media(page, video=1, timeout=30)
        pairs = _selected_pairs(page, poll)
        assert pairs and all(p["local"] == "relay" and p["remote"] == "relay" for p in pairs), pairs
        # Nothing but relayed candidates was even offered to the peer.
        assert page.evaluate(
            "window.__peerConnections.every(pc => pc.getConfiguration().iceTransportPolicy"
            " === 'relay')"
        )


async def _allocate(coturn, username, password):
    """A TURN allocation from coturn: the relayed address, or the STUN error
    (code, reason) coturn answered."""
    try:
        transport, _protocol = await create_turn_endpoint(
            asyncio.DatagramProtocol,
            server_addr=("127.0.0.1", coturn.port),
            username=username,
            password=password,
        )
    except stun.TransactionFailed as exc:
        return exc.response.attributes["ERROR-CODE"]
    address = transport.get_extra_info("sockname")
    transport.close()
    return address


def _allocation(coturn, username, password):
    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _allocate(coturn, username, password)).result(30)


def test_coturn_grants_fresh_credentials_and_refuses_expired_or_forged_ones(coturn):
    fresh = turn_credential(coturn.secret, "peer1", 600)
    expired = turn_credential(coturn.secret, "peer1", 600, now=0)  # expired in 1970
    just_expired = turn_credential(coturn.secret, "peer1", -5)
    forged = turn_credential("not-the-secret", "peer1", 600)

    address = _allocation(coturn, *fresh)
    assert address[0] == "127.0.0.1", address
    for username, password in (expired, just_expired, forged):
        code, _reason = _allocation(coturn, username, password)
        assert code == 401, (username, code)
