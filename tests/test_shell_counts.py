"""The staff shell's counts (clients waiting, unread messages) are shown
twice on every staff page, in the menu and in the header, and counted once
per request: each count is a query on every page a staff member opens."""

import re

import pytest

from consultroom.accounts.models import Role
from consultroom.db.cache import ResultCache
from consultroom.waitingroom import shell_hooks


class Counting:
    """Stands in for a count function: returns ``value``, counts calls."""

    def __init__(self, value):
        self.value = value
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.value


@pytest.fixture
def staff_page(webtest, login, make_organisation, make_user, enable_plugin):
    org = make_organisation("acme")
    enable_plugin(org, "chat")
    session = webtest("acme")
    login(session, make_user(org, role=Role.practitioner))
    return lambda path="/appointments": session.get(path)


def test_the_waiting_count_is_counted_once_and_shown_twice(staff_page, monkeypatch):
    count = Counting(3)
    monkeypatch.setattr(shell_hooks, "waiting_count", count)
    page = staff_page()
    assert "Waiting room (3)" in page.text
    assert re.search(r"data-waiting-count>\s*3\s*<", page.text)
    assert count.calls == 1
    staff_page()
    assert count.calls == 2  # once per request, never kept beyond it


def test_the_unread_messages_are_counted_once_and_shown_twice(staff_page, monkeypatch):
    # Clients' channels and the website's visitors, counted in one statement
    # (on a page without a list, which shows each client's count as well),
    # read through the unread totals' cache (tests/test_chat.py).
    unread = Counting(((11, 2), (12, 3)))
    monkeypatch.setattr(ResultCache, "rows", unread)
    page = staff_page("/profile")
    assert "Messages (5)" in page.text
    assert "5 unread messages" in page.text
    assert unread.calls == 1
