"""The application's services behind interfaces (the outbox, the message bus,
the rate-limit counter and the secret box; the password hasher is tested with
the logins): the registered implementations provide their interfaces, and a
fake registered for an interface is what the application then uses, from the
pages down, without string keys or monkeypatching."""

import re
import sys
import types
from datetime import timedelta

import pytest
from sqlalchemy import select
from zope.interface import implementer
from zope.interface.verify import verifyObject

from consultroom.app import make_config
from consultroom.mail import IOutbox, mail_outbox
from consultroom.plugins.registry import Plugin, PluginInfo, PluginRegistry
from consultroom.ratelimit import IRateLimitCounter, rate_limit_counter
from consultroom.realtime import user_channel
from consultroom.realtime.bus import IMessageBus, MemoryBus, message_bus
from consultroom.secretbox import ISecretBox, secret_box
from consultroom.testing import PASSWORD
from consultroom.twofactor.models import TwoFactor

FINDERS = {
    IOutbox: mail_outbox,
    IMessageBus: message_bus,
    IRateLimitCounter: rate_limit_counter,
    ISecretBox: secret_box,
}


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


def form_to(page, action):
    return next(f for f in page.forms.values() if f.action == action)


@pytest.mark.parametrize("interface", FINDERS, ids=lambda i: i.__name__)
def test_the_registered_services_provide_their_interfaces(app, interface):
    assert verifyObject(interface, FINDERS[interface](app.registry))


@implementer(IOutbox)
class KeptOutbox:
    """Keeps what is queued; sends nothing."""

    sender = "Fake <fake@example.org>"

    def __init__(self):
        self.queued = []

    def queue(
        self,
        dbsession,
        transaction_manager,
        recipient,
        subject,
        text,
        html=None,
        attachments=(),
        organisation_id=None,
        ref="",
    ):
        self.queued.append((recipient, organisation_id, text))

    def deliver_due(self, only_ids=None, limit=100):
        return 0


def test_a_swapped_outbox_gets_the_mail(webtest, swap_service, org, make_user, smtp):
    outbox = swap_service(IOutbox, KeptOutbox())
    user = make_user(org, email="anna@example.org")
    web = webtest("acme")
    form = web.get("/new-link").forms[0]
    form["email"] = user.email
    form.submit(status=200)
    [(recipient, organisation_id, text)] = outbox.queued
    assert (recipient, organisation_id) == ("anna@example.org", org.id)
    assert "/set-password/" in text
    assert smtp.messages == []


class RecordingBus(MemoryBus):
    """Delivers in this process, and records what was published."""

    def __init__(self):
        super().__init__()
        self.published = []
        self.reconnect_callbacks = self._reconnect_callbacks

    def publish(self, channel, message):
        self.published.append((channel, message))
        super().publish(channel, message)


def test_a_swapped_bus_carries_the_messages(webtest, swap_service, org, make_user, login):
    bus = swap_service(IMessageBus, RecordingBus())
    user = make_user(org)
    web = webtest("acme")
    login(web, user)
    form_to(web.get("/profile"), "/session/end-all").submit(status=303)
    assert bus.published == [(user_channel(user.id), {"type": "_kick"})]


def test_a_plugin_s_bus_replaces_the_configured_one(app_settings, _app_dbmaker, monkeypatch):
    bus = RecordingBus()
    module = types.ModuleType("consultroom_fake_bus")
    module.includeme = lambda config: config.registry.registerUtility(bus, IMessageBus)
    monkeypatch.setitem(sys.modules, module.__name__, module)  # Pyramid imports its package
    plugins = PluginRegistry()
    plugins.plugins["fakebus"] = Plugin(
        id="fakebus", version="1", module=module, info=PluginInfo(name="Fake bus")
    )
    registry = make_config(app_settings, plugins=plugins, dbmaker=_app_dbmaker).registry
    assert message_bus(registry) is bus
    # Told to resync the sockets after a reconnect, like the configured bus.
    assert len(bus.reconnect_callbacks) == 1


@implementer(IRateLimitCounter)
class LockedOut:
    """Every key locked out for seven more minutes."""

    def recent_failures(self, request, key, limit):
        return []

    def fail(self, request, key, limit):
        pass

    def reserve(self, request, key, limit):
        return None, timedelta(minutes=7)

    def refund(self, request, key, ticket):
        raise AssertionError("nothing was counted")

    def clear(self, request, key):
        pass


def test_a_swapped_rate_limit_counter_decides(webtest, swap_service, org, make_user):
    swap_service(IRateLimitCounter, LockedOut())
    user = make_user(org)
    web = webtest("acme")
    form = web.get("/login").forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    page = form.submit(status=200)  # the right password, and still refused
    assert "Wait 7 minutes and try again." in page.text


@implementer(ISecretBox)
class MirrorBox:
    """Not encryption: marks and reverses, so that a test can read it."""

    def encrypt(self, data):
        return b"mirror:" + data[::-1]

    def decrypt(self, token):
        return token.removeprefix(b"mirror:")[::-1]


def test_a_swapped_secret_box_seals_the_second_factor(
    webtest, swap_service, org, make_user, login, dbsession
):
    swap_service(ISecretBox, MirrorBox())
    user = make_user(org)
    web = webtest("acme")
    login(web, user)
    page = web.get("/profile/two-factor")
    shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)[1]
    stored = dbsession.scalar(
        select(TwoFactor.secret_encrypted).where(TwoFactor.user_id == user.id)
    )
    assert stored == "mirror:" + shown.replace(" ", "")[::-1]


def test_the_secret_box_is_still_found_where_plugin_contract_v1_documented_it():
    from consultroom.twofactor import crypto

    assert (crypto.ISecretBox, crypto.secret_box) == (ISecretBox, secret_box)
