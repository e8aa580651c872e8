"""The per-process cache of the organisations and their enabled plugins
(consultroom.db.cache): no query for them once cached, and never a stale
answer after a change, made here or in another process."""

import pytest
from sqlalchemy import inspect, update

from consultroom.accounts.models import Role
from consultroom.app import make_config
from consultroom.db import NotYetJoined, cache
from consultroom.plugins.gating import CACHE as PLUGINS_CACHE
from consultroom.plugins.registry import PluginRegistry
from consultroom.realtime import CACHE_CHANNEL
from consultroom.realtime.bus import message_bus
from consultroom.tenancy.hosts import CACHE as ORGANISATIONS_CACHE
from consultroom.tenancy.models import Department, Organisation

from clientmail_support import org_request


@pytest.fixture
def org(make_organisation, dbsession):
    org = make_organisation("acme", name="Acme Care")
    dbsession.commit()
    return org


def test_a_cached_organisation_costs_no_query_nor_the_login_page_a_session(
    webtest, org, statements, transactions_begun
):
    page = webtest("acme")
    page.get("/login")
    statements.clear()
    transactions_begun.clear()
    assert "Acme Care" in page.get("/login").text
    assert not [s for s in statements if "organisation" in s or "plugin_enablement" in s]
    # Nothing on the page needs the database: no session is made for it.
    assert transactions_begun == []


def test_an_organisation_not_cached_is_looked_up_once(webtest, org, statements):
    # Looking it up runs outside the request's scope, which the lookup
    # itself decides: asking the scope then would look it up again, within
    # the lookup (on a database not yet in a transaction: an error).
    statements.clear()
    webtest("acme").get("/login")
    looked_up = [s for s in statements if "FROM organisation" in s and "subdomain" in s]
    assert len(looked_up) == 1


def test_a_committed_change_is_seen_by_the_next_request(webtest, org, dbsession):
    page = webtest("acme")
    page.get("/login")
    org.name = "Acme Health"
    dbsession.commit()
    assert "Acme Health" in page.get("/login").text


def test_a_change_made_by_a_page_is_seen_at_once(webtest, org, login, make_user):
    page = webtest("acme")
    login(page, make_user(org, role=Role.org_admin))
    form = [f for f in page.get("/organisation").forms.values() if f.action == "/organisation"][0]
    form["name"] = "Acme Renamed"
    form.submit().follow()
    assert "Acme Renamed" in webtest("acme").get("/login").text


def test_a_bulk_update_and_a_renamed_subdomain_empty_the_cache(webtest, org, dbsession):
    webtest("acme").get("/login")
    dbsession.execute(update(Organisation).where(Organisation.id == org.id).values(subdomain="ac"))
    dbsession.commit()
    webtest("acme").get("/login", status=404)
    assert "Acme Care" in webtest("ac").get("/login").text


def test_a_rolled_back_change_is_not_kept(webtest, org, dbsession, app):
    webtest("acme").get("/login")
    org.name = "Never Saved"
    dbsession.flush()
    # Another request in this process caches what it reads meanwhile...
    assert "Never Saved" in webtest("acme").get("/login").text
    dbsession.rollback()
    # ...but not beyond the rollback.
    assert len(app.registry[ORGANISATIONS_CACHE]) == 0
    assert "Acme Care" in webtest("acme").get("/login").text


def test_enabling_a_plugin_opens_its_pages_at_once(webtest, org, enable_plugin, dbsession, app):
    page = webtest("acme")
    page.get("/hello", status=404)
    enable_plugin(org, "hello")
    dbsession.commit()
    # The page exists now (and asks who you are).
    assert "/login" in page.get("/hello", status=302).location
    enable_plugin(org, "hello", enabled=False)
    dbsession.commit()
    page.get("/hello", status=404)
    assert len(app.registry[PLUGINS_CACHE]) == 1


def test_other_processes_are_told_and_tell(app_settings, _app_dbmaker, org):
    config = make_config(app_settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker)
    other = config.make_wsgi_app()
    organisations = other.registry[ORGANISATIONS_CACHE]
    bus = message_bus(other.registry)
    heard = []
    bus.subscribe(CACHE_CHANNEL, heard.append)

    # A commit here is published for the other processes...
    session = _app_dbmaker()
    session.get(Organisation, org.id).name = "Changed Here"
    session.commit()
    assert heard == [{"type": "_tables_changed", "tables": ["organisation"]}]
    # ...and their message empties this process's cache.
    organisations.put("acme", {"id": org.id})
    bus.publish(CACHE_CHANNEL, {"type": "_tables_changed", "tables": ["organisation"]})
    assert len(organisations) == 0
    # A message about other tables leaves it alone.
    organisations.put("acme", {"id": org.id})
    bus.publish(CACHE_CHANNEL, {"type": "_tables_changed", "tables": ["client"]})
    assert len(organisations) == 1


def test_after_a_redis_reconnect_the_caches_are_emptied(app_settings, _app_dbmaker, org):
    config = make_config(app_settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker)
    other = config.make_wsgi_app()
    organisations = other.registry[ORGANISATIONS_CACHE]
    organisations.put("acme", {"id": org.id})
    # What the Redis bus calls once it is connected again.
    for callback in message_bus(other.registry)._reconnect_callbacks:
        callback()
    assert len(organisations) == 0


def test_entries_expire_and_the_cache_is_bounded(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    rows = cache.RowCache({"somewhere"}, ttl=60, size=2)
    rows.put("a", 1)
    now[0] += 59
    assert rows.get("a") == 1
    now[0] += 2
    assert rows.get("a") is None
    for key in "bcd":
        rows.put(key, key)
    assert (rows.get("b"), rows.get("c"), rows.get("d")) == (None, "c", "d")


def test_the_cached_organisation_joins_the_session_its_request_makes(app, org, dbsession):
    dbsession.add(Department(organisation=org, name="Physio"))
    org.logo = b"\x89PNG logo"
    dbsession.commit()
    with org_request(app, "acme") as request:
        assert request.organisation.name == "Acme Care"  # now cached
    with org_request(app, "acme") as request:
        cached = request.organisation
        assert "dbsession" not in request.__dict__
        cached.name = "Acme Health"  # before the request has a session
        assert cached in request.dbsession
        assert [d.name for d in cached.departments] == ["Physio"]
        assert cached.logo == b"\x89PNG logo"
    dbsession.expire_all()
    assert dbsession.get(Organisation, org.id).name == "Acme Health"


def test_the_cached_copy_is_its_rows_only_once_it_joins_or_changes(app, org, dbsession):
    """A request that never opens its database session never makes its
    organisation the row's; one that reads what the copy was not made with
    before that is told so, rather than reading it as empty."""
    dbsession.add(Department(organisation=org, name="Physio"))
    dbsession.commit()
    with org_request(app, "acme") as request:
        assert request.organisation.name == "Acme Care"  # now cached
    with org_request(app, "acme") as request:
        cached = request.organisation
        assert inspect(cached).key is None  # made from the cache, nothing more
        with pytest.raises(NotYetJoined, match="open request.dbsession first"):
            cached.departments  # noqa: B018
        with pytest.raises(NotYetJoined):
            cached.logo  # noqa: B018
        request.dbsession  # noqa: B018
        assert inspect(cached).persistent
        assert [d.name for d in cached.departments] == ["Physio"]
    with org_request(app, "acme") as request:
        cached = request.organisation
        cached.timezone = "Europe/Stockholm"  # a change: the row's first
        assert inspect(cached).key is not None
        assert inspect(cached).attrs.timezone.history.deleted == ["Europe/Amsterdam"]
    new = Organisation(subdomain="brandnew", name="New")  # not a copy: no such rules
    assert new.logo is None and inspect(new).key is None


def test_a_change_in_place_stays_in_its_request(app, org):
    """Each request gets its own copy of the JSON columns (the settings):
    one changed in place, never flushed, is not what the next request reads."""
    with org_request(app, "acme") as request:
        assert request.organisation.settings == {}  # now cached
    with org_request(app, "acme") as request:
        request.organisation.settings["strictly_segregated_clients"] = True
        request.organisation.address_forms["nl"] = "dokter"
        request.organisation.embed_origins.append("https://www.example.org")
        assert "dbsession" not in request.__dict__  # so never written
    with org_request(app, "acme") as request:
        org = request.organisation
        assert (org.settings, org.address_forms, org.embed_origins) == ({}, {}, [])
