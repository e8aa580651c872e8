"""What browser tests and benchmarks share: Debian's Chromium with the flags
that let two headless pages call each other with fake camera and microphone
(``CHROMIUM_FLAGS``, a camera's usual frame rate, for the benchmarks and
the network test, which measures the bitrate;
``TEST_CHROMIUM_FLAGS``, a slower camera, for the tests; both without the
browser UI's features that cost every context, ``DISABLED_FEATURES``),
a script that records a page's peer connections for getStats(), and the
check that real WebRTC runs only in a loopback-only network namespace."""

import os
import socket

CHROMIUM = os.environ.get("CONSULTROOM_CHROMIUM", "/usr/bin/chromium")
# Playwright disables these itself, with a --disable-features switch of its
# own, before ours; Chromium heeds only the last such switch, so ours repeats
# them (tests/browser/test_chromium_flags.py checks it still names every one
# the installed Playwright passes).
PLAYWRIGHT_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
]
# Chromium 156 makes a WebUI omnibox popup (chrome://omnibox-popup.top-chrome/,
# a renderer of its own) for every window, and Playwright opens a window for
# every context: about half of what a new context and its page cost.
DISABLED_FEATURES = [*PLAYWRIGHT_DISABLED_FEATURES, "WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    # getDisplayMedia picks the (fake) screen without asking.
    "--auto-select-desktop-capture-source=Entire screen",
    # Autoplay of remote audio without a click.
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=" + ",".join(DISABLED_FEATURES),
]
# The tests' fake camera sends 5 frames a second instead of 20: encoding and
# decoding every call's video was about a fifth of the browser tests' CPU
# (measured: 146 s against 120 s for the calls of four test modules), and
# what the tests check (video flows, is decoded, resumes) needs no more.
TEST_CHROMIUM_FLAGS = [
    "--use-fake-device-for-media-stream=fps=5"
    if flag == "--use-fake-device-for-media-stream"
    else flag
    for flag in CHROMIUM_FLAGS
]

# Keeps every RTCPeerConnection a page makes in window.__peerConnections.
RECORD_CONNECTIONS_JS = """(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Original(...args);
    window.__peerConnections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
})();"""


def only_loopback():
    """Whether this process's network namespace holds nothing but ``lo``.

    /sys/class/net shows the namespace sysfs was mounted in, not ours: ask
    the kernel about the current one."""
    return [name for _index, name in socket.if_nameindex()] == ["lo"]
