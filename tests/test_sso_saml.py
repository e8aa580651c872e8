"""The single sign-on plugin with SAML 2.0 (python3-saml in strict mode)
against a local pysaml2 identity provider on 127.0.0.1 (tests/saml_idp.py):
the SP metadata, the IdP metadata uploaded or fetched, a login with the
attribute mapping, and the responses refused, each with a page and an
audit entry: unsigned assertions, the XSW1–XSW8 signature-wrapping
variants built here from a signed response, a NameID with an XML comment,
a replayed response, a response to another request, an unsolicited one."""

import copy
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from consultroom_sso.models import Connection, Identity, Kind
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from sqlalchemy import select

from consultroom.accounts.models import Role, User

from saml_idp import IdentityProvider, decode, encode, posted_form
from sso_support import ada, entries, link, logged_in, org_admin, organisation, refusals

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory):
    running = IdentityProvider(tmp_path_factory.mktemp("idp")).start()
    yield running
    running.stop()


@pytest.fixture
def org(make_organisation, enable_plugin, dbsession):
    return organisation(make_organisation, enable_plugin, dbsession)


@pytest.fixture
def doctor(org, make_user):
    return ada(org, make_user)


@pytest.fixture
def admin(org, make_user):
    return org_admin(org, make_user)


@pytest.fixture
def idp(identity_provider):
    identity_provider.person = {
        "nameid": "subject-ada",
        "email": "ada@acme.example",
        "displayName": "Ada Lovelace",
    }
    identity_provider.sign_assertion, identity_provider.sign_response = True, False
    identity_provider.lifetime_minutes = 5
    return identity_provider


@pytest.fixture
def connection(webtest, org, idp, dbsession):
    """A SAML connection of ``org`` to the test IdP, which knows the SP."""
    connection = Connection(
        organisation_id=org.id,
        name="Acme SAML",
        button_text="Log in with Acme SAML",
        kind=Kind.saml,
        role=Role.practitioner,
        idp_metadata=idp.metadata(),
        # pysaml2's names for the attributes "email" and "displayName".
        email_attribute="urn:mace:dir:attribute-def:email",
        name_attribute="urn:mace:dir:attribute-def:displayName",
    )
    dbsession.add(connection)
    dbsession.flush()
    idp.trust(webtest("acme").get(f"/sso/{connection.id}/saml/metadata").text)
    return connection


def to_idp(app, connection):
    page = app.get("/login")
    button = page.html.find("a", string=connection.button_text)
    return app.get(button["href"], status=303)


def idp_answer(start):
    """The IdP's form: where it posts, and the signed SAMLResponse."""
    page = requests.get(start.location, timeout=10)
    assert page.status_code == 200, page.text
    return posted_form(page.text)


def post_answer(app, action, fields, status="*"):
    return app.post(urlsplit(action).path, fields, status=status)


def saml_login(app, connection, status="*"):
    action, fields = idp_answer(to_idp(app, connection))
    finish = post_answer(app, action, fields, status=303)
    return app.get(finish.location, status=status)


def test_a_linked_staff_member_logs_in_through_the_identity_provider(
    webtest, org, idp, connection, doctor, dbsession
):
    link(dbsession, connection, doctor)
    app = webtest("acme")
    assert saml_login(app, connection, status=303).location.endswith("/")
    assert logged_in(app)
    [success] = entries(dbsession, org, "login.success")
    assert success.detail == {"method": f"sso:{connection.id}"}


def test_the_service_provider_metadata_is_served_for_saml_connections_only(
    webtest, org, connection, make_organisation, enable_plugin
):
    response = webtest("acme").get(f"/sso/{connection.id}/saml/metadata")
    assert response.content_type == "application/samlmetadata+xml"
    document = etree.fromstring(response.body)
    base = f"http://acme.consultroom.test/sso/{connection.id}/saml"
    assert document.get("entityID") == f"{base}/metadata"
    descriptor = document.find(f"{{{'urn:oasis:names:tc:SAML:2.0:metadata'}}}SPSSODescriptor")
    assert descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.find("{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs.get("Location") == f"{base}/acs"
    other = make_organisation("other")
    enable_plugin(other, "sso")
    webtest("other").get(f"/sso/{connection.id}/saml/metadata", status=404)


def test_a_user_is_created_at_login_from_the_mapped_attributes(
    webtest, org, idp, connection, dbsession
):
    connection.create_users = True
    connection.role = Role.dept_admin
    connection.department_id = org.departments[0].id
    dbsession.flush()
    idp.person = {"nameid": "opaque-7", "email": "Grace@Acme.example", "displayName": "Grace H"}
    app = webtest("acme")
    saml_login(app, connection, status=303)
    assert logged_in(app)
    user = dbsession.scalar(select(User).where(User.email == "grace@acme.example"))
    assert (user.name, user.role, user.department_id) == (
        "Grace H",
        Role.dept_admin,
        org.departments[0].id,
    )
    identity = dbsession.scalar(select(Identity).where(Identity.user_id == user.id))
    assert identity.subject == "opaque-7"


# --- refused responses -----------------------------------------------------------------------


def _refused(app, action, fields):
    page = post_answer(app, action, fields, status=403)
    assert "Back to the login page" in page.text
    return page


@pytest.mark.parametrize("sign_response", [False, True], ids=["nothing_signed", "only_response"])
def test_an_unsigned_assertion_is_refused(
    webtest, org, idp, connection, doctor, dbsession, sign_response
):
    link(dbsession, connection, doctor)
    idp.sign_assertion, idp.sign_response = False, sign_response
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    assert "could not be verified" in _refused(app, action, fields).text
    assert not logged_in(app)
    [reason] = refusals(dbsession, org)
    assert reason.startswith("saml_invalid")


def test_a_replayed_response_is_refused(webtest, org, idp, connection, doctor, dbsession):
    link(dbsession, connection, doctor)
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    finish = post_answer(app, action, fields, status=303)
    app.get(finish.location, status=303)
    again = webtest("acme")
    again.get("/login")
    assert "already used" in _refused(again, action, fields).text
    again.get(finish.location, status=403)  # the finishing step works once too
    assert not logged_in(again)
    assert refusals(dbsession, org) == ["saml_request_unknown", "state_invalid"]


def test_a_response_to_another_request_is_refused(webtest, org, idp, connection, doctor, dbsession):
    link(dbsession, connection, doctor)
    mine, theirs = webtest("acme"), webtest("acme")
    action, fields = idp_answer(to_idp(mine, connection))
    other_request = idp_answer(to_idp(theirs, connection))[1]
    other_id = etree.fromstring(decode(other_request["SAMLResponse"])).get("InResponseTo")
    # The response says it answers the other request (outside the signed assertion).
    document = etree.fromstring(decode(fields["SAMLResponse"]))
    document.set("InResponseTo", other_id)
    _refused(theirs, action, {"SAMLResponse": encode(etree.tostring(document))})
    # A signed response to a request this site never sent, and an unsolicited one.
    for in_response_to in ("id-never-sent", None):
        xml = idp.answer(
            in_response_to,
            action,
            f"{urlsplit(action).scheme}://{urlsplit(action).netloc}/sso/{connection.id}/saml/metadata",
        )
        _refused(mine, action, {"SAMLResponse": encode(xml.encode())})
    assert not logged_in(mine) and not logged_in(theirs)
    reasons = refusals(dbsession, org)
    assert reasons[0].startswith("saml_invalid")
    assert reasons[1:] == ["saml_request_unknown", "saml_request_unknown"]


# --- signature wrapping (XSW1–XSW8), built from a response the IdP signed -------------------

EVIL_SUBJECT = "subject-admin"


def _evil(element):
    """A copy of ``element`` with a new ID that names the admin instead."""
    evil = copy.deepcopy(element)
    evil.set("ID", "_evil" + evil.get("ID"))
    for name_id in evil.iter(f"{{{SAML}}}NameID"):
        name_id.text = EVIL_SUBJECT
    return evil


def _unsigned(element):
    for signature in element.findall("ds:Signature", NS):
        element.remove(signature)
    return element


def _signature(element):
    return element.find("ds:Signature", NS)


def xsw1(root, assertion):
    """A changed Response is the root; the signed original sits inside its Signature."""
    evil = _evil(root)
    _signature(evil).append(_unsigned(copy.deepcopy(root)))
    return evil


def xsw2(root, assertion):
    """As XSW1, with the signed original before the (now detached) Signature."""
    evil = _evil(root)
    signature = _signature(evil)
    evil.insert(evil.index(signature), _unsigned(copy.deepcopy(root)))
    return evil


def xsw3(root, assertion):
    """An unsigned changed Assertion before the signed one."""
    root.insert(root.index(assertion), _unsigned(_evil(assertion)))
    return root


def xsw4(root, assertion):
    """The signed Assertion inside an unsigned changed one."""
    evil = _unsigned(_evil(assertion))
    root.replace(assertion, evil)
    evil.append(assertion)
    return root


def xsw5(root, assertion):
    """The changed Assertion keeps the Signature; an unsigned copy of the
    original goes to the end of the Response."""
    original = _unsigned(copy.deepcopy(assertion))
    root.replace(assertion, _evil(assertion))
    root.append(original)
    return root


def xsw6(root, assertion):
    """As XSW5, with the original copy inside the Signature."""
    evil = _evil(assertion)
    _signature(evil).append(_unsigned(copy.deepcopy(assertion)))
    root.replace(assertion, evil)
    return root


def xsw7(root, assertion):
    """The signed Assertion hidden in an Extensions element; a changed one beside it."""
    original = copy.deepcopy(assertion)
    root.replace(assertion, _unsigned(_evil(assertion)))
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(original)
    root.insert(1, extensions)
    return root


def xsw8(root, assertion):
    """The changed Assertion keeps the Signature; the original, unsigned, in
    a ds:Object inside it."""
    evil = _evil(assertion)
    holder = etree.SubElement(_signature(evil), f"{{{DS}}}Object")
    holder.append(_unsigned(copy.deepcopy(assertion)))
    root.replace(assertion, evil)
    return root


WRAPPINGS = [xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8]


@pytest.mark.parametrize("wrap", WRAPPINGS, ids=lambda f: f.__name__)
def test_signature_wrapping_is_refused(
    webtest, org, idp, connection, doctor, make_user, dbsession, wrap
):
    link(dbsession, connection, doctor)  # the attacker's own account
    admin = make_user(org, role=Role.org_admin, email="boss@acme.example")
    link(dbsession, connection, admin, subject=EVIL_SUBJECT)
    idp.sign_response = wrap in (xsw1, xsw2)  # these two wrap the Response's signature
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    root = etree.fromstring(decode(fields["SAMLResponse"]))
    wrapped = wrap(root, root.find("saml:Assertion", NS))
    _refused(app, action, {"SAMLResponse": encode(etree.tostring(wrapped))})
    assert not logged_in(app)
    assert entries(dbsession, org, "login.success") == []
    [reason] = refusals(dbsession, org)
    assert reason.startswith("saml_invalid")


def test_a_name_id_with_an_xml_comment_is_refused(
    webtest, org, idp, connection, make_user, dbsession
):
    """CVE-2017-11427: "subject-admin<!---->.evil" is signed as
    "subject-admin.evil" (comments are not signed), and read as
    "subject-admin" by a parser that stops at the comment."""
    admin = make_user(org, role=Role.org_admin, email="boss@acme.example")
    link(dbsession, connection, admin, subject=EVIL_SUBJECT)
    connection.create_users = True
    idp.person["nameid"] = EVIL_SUBJECT + ".evil"
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    root = etree.fromstring(decode(fields["SAMLResponse"]))
    name_id = root.find(".//saml:NameID", NS)
    name_id.text = EVIL_SUBJECT
    comment = etree.Comment("")
    comment.tail = ".evil"
    name_id.append(comment)
    _refused(app, action, {"SAMLResponse": encode(etree.tostring(root))})
    assert not logged_in(app)
    assert refusals(dbsession, org) == ["saml_xml_comment"]


def test_an_assertion_is_used_once_even_in_a_response_to_a_new_request(
    webtest, org, idp, connection, doctor, dbsession
):
    """The IdP signs the same assertion again for a new request (its key
    re-signs it): the assertion's id was seen, so it is refused."""
    link(dbsession, connection, doctor)
    first = webtest("acme")
    action, fields = idp_answer(to_idp(first, connection))
    first.get(post_answer(first, action, fields, status=303).location, status=303)
    second = webtest("acme")
    new_request = etree.fromstring(
        decode(idp_answer(to_idp(second, connection))[1]["SAMLResponse"])
    ).get("InResponseTo")
    root = etree.fromstring(decode(fields["SAMLResponse"]))
    root.set("InResponseTo", new_request)
    assertion = _unsigned(root.find("saml:Assertion", NS))
    assertion.find(".//saml:SubjectConfirmationData", NS).set("InResponseTo", new_request)
    key = open(idp.key_file).read()
    certificate = open(idp.cert_file).read()
    signed = OneLogin_Saml2_Utils.add_sign(etree.tostring(assertion), key, certificate)
    root.replace(assertion, etree.fromstring(signed))
    _refused(second, action, {"SAMLResponse": encode(etree.tostring(root))})
    assert not logged_in(second)
    assert refusals(dbsession, org) == ["saml_replayed"]


# --- "Configure SSO" for SAML ----------------------------------------------------------------


def errors(page):
    return [e.text for e in page.html.select(".error")]


def _new_saml_form(web):
    form = web.get("/sso/connections/new").forms[1]
    form["name"], form["button_text"], form["kind"] = "Acme SAML", "Log in with SAML", "saml"
    return form


def test_an_admin_adds_a_saml_connection_by_upload_or_by_address(
    webtest, login, org, idp, admin, doctor, dbsession
):
    web = webtest("acme")
    login(web, admin)
    form = _new_saml_form(web)
    form["accept_mfa"] = True
    page = form.submit(status=200)
    assert errors(page) == [
        "Only OpenID Connect providers say here whether they checked a second factor.",
        "Upload the identity provider's metadata or enter its address.",
    ]
    form = _new_saml_form(web)
    form["idp_metadata_file"] = ("idp.xml", b"<not-metadata/>", "text/xml")
    assert "The metadata names no identity provider" in form.submit(status=200).text
    form = _new_saml_form(web)
    form["idp_metadata_file"] = ("idp.xml", b"x" * 500_001, "text/xml")
    assert "The file is larger than 488 KB." in form.submit(status=200).text
    form = _new_saml_form(web)
    form["idp_metadata_url"] = "http://idp.example/metadata"
    assert errors(form.submit(status=200)) == ["Enter the metadata's https:// address."]
    form = _new_saml_form(web)
    form["idp_metadata_url"] = idp.base + "/missing"
    assert "could not be fetched from this address" in form.submit(status=200).text
    assert dbsession.scalar(select(Connection.id)) is None

    form = _new_saml_form(web)
    form["idp_metadata_file"] = ("idp.xml", idp.metadata().encode(), "text/xml")
    form["email_attribute"] = "urn:mace:dir:attribute-def:email"
    form.submit(status=303)
    connection = dbsession.scalar(select(Connection))
    assert connection.kind is Kind.saml and "EntityDescriptor" in connection.idp_metadata
    page = web.get(f"/sso/connections/{connection.id}")
    assert f"/sso/{connection.id}/saml/metadata" in page.text
    assert f"/sso/{connection.id}/saml/acs" in page.text
    # Fetched from its address when saved.
    connection.idp_metadata = ""
    dbsession.flush()
    form = page.forms[1]
    form["idp_metadata_url"] = idp.base + "/metadata"
    form.submit(status=303)
    dbsession.refresh(connection)
    assert "EntityDescriptor" in connection.idp_metadata
    saved = entries(dbsession, org, "sso.connection_saved")
    assert [e.detail["metadata_changed"] for e in saved] == [True, True]
    # And the login works with it.
    idp.trust(webtest("acme").get(f"/sso/{connection.id}/saml/metadata").text)
    link(dbsession, connection, doctor)
    app = webtest("acme")
    saml_login(app, connection, status=303)
    assert logged_in(app)


def test_saml_routes_are_gone_where_the_plugin_is_off_or_the_kind_differs(
    webtest, org, idp, connection, doctor, enable_plugin, dbsession
):
    link(dbsession, connection, doctor)
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    app.get(f"/sso/{connection.id}/callback?state=x&code=y", status=404)  # not OpenID Connect
    enable_plugin(org, "sso", enabled=False)
    assert "Log in with Acme SAML" not in app.get("/login").text
    post_answer(app, action, fields, status=404)
    for path in ("saml/finish?token=x", "saml/metadata", "login"):
        app.get(f"/sso/{connection.id}/{path}", status=404)
    assert not logged_in(app)


@pytest.mark.parametrize("late_minutes, accepted", [(0.5, True), (2, False)])
def test_an_assertion_is_taken_only_while_it_is_valid(
    webtest, org, idp, connection, doctor, dbsession, late_minutes, accepted
):
    """An assertion whose subject confirmation is valid for one minute is
    taken within it and refused after it: python3-saml allows no clock skew
    there (and at most ALLOWED_CLOCK_DRIFT, 300 s, on the Conditions)."""
    link(dbsession, connection, doctor)
    idp.lifetime_minutes = 1
    idp.trust(webtest("acme").get(f"/sso/{connection.id}/saml/metadata").text)
    app = webtest("acme")
    action, fields = idp_answer(to_idp(app, connection))
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=late_minutes)):
        response = post_answer(app, action, fields)
        if accepted:
            assert response.status_int == 303, refusals(dbsession, org)
            app.get(response.location, status=303)
            assert logged_in(app)
        else:
            assert response.status_int == 403
            assert not logged_in(app)
            [reason] = refusals(dbsession, org)
            assert reason.startswith("saml_invalid")


def test_a_staff_member_links_their_account_from_the_profile(
    webtest, login, org, idp, connection, doctor, dbsession
):
    web = webtest("acme")
    login(web, doctor)
    profile = web.get("/profile")
    form = next(f for f in profile.forms.values() if f.action == f"/sso/{connection.id}/link")
    action, fields = idp_answer(form.submit(status=303))
    finish = post_answer(web, action, fields, status=303)
    assert web.get(finish.location, status=303).follow().text.count("Linked to Acme SAML.") == 1
    identity = dbsession.scalar(select(Identity).where(Identity.user_id == doctor.id))
    assert (identity.connection_id, identity.subject) == (connection.id, "subject-ada")
    fresh = webtest("acme")
    saml_login(fresh, connection, status=303)
    assert logged_in(fresh)
