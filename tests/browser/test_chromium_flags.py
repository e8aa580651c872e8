"""The switches the browser tests and benchmarks give Chromium
(consultroom.browser_testing). Chromium heeds only the last
--disable-features switch, and Playwright passes one of its own before ours:
ours must name every feature the installed Playwright disables. And a new
context gets no WebUI omnibox popup, a renderer Chromium would otherwise
make for every window (about half of what a context and its page cost)."""

import uuid
from pathlib import Path

from consultroom.browser_testing import CHROMIUM, DISABLED_FEATURES


def _arguments_of_process_with(marker):
    for process in Path("/proc").iterdir():
        try:
            arguments = (process / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if marker in arguments:
            return arguments
    raise AssertionError(f"no process was started with {marker}")


def _disabled_features(arguments):
    return [
        argument.removeprefix("--disable-features=").split(",")
        for argument in arguments
        if argument.startswith("--disable-features=")
    ]


def test_our_disabled_features_include_every_one_playwright_disables(browser):
    # Chromium ignores a switch it does not know: this one only finds the process.
    marker = f"--consultroom-probe={uuid.uuid4().hex}"
    bare = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[marker])
    try:
        (playwrights,) = _disabled_features(_arguments_of_process_with(marker))
    finally:
        bare.close()
    missing = sorted(set(playwrights) - set(DISABLED_FEATURES))
    assert not missing, f"add {missing} to PLAYWRIGHT_DISABLED_FEATURES"


def test_a_new_context_gets_no_omnibox_popup(browser, new_context):
    cdp = browser.new_browser_cdp_session()
    new_context().new_page()
    # An empty filter entry lists targets of every type, the browser's own UI too.
    targets = cdp.send("Target.getTargets", {"filter": [{}]})["targetInfos"]
    assert [t["type"] for t in targets if t["url"].startswith("chrome://omnibox")] == []
    assert "page" in {t["type"] for t in targets}
