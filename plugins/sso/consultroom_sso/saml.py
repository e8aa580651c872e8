"""SAML 2.0, the service provider's side, with python3-saml in strict mode:
the SP metadata document, the authentication request, and the response
checked before anyone is believed.

Strict mode with signed assertions required: the destination, audience,
recipient and the times are checked (the subject confirmation's
NotOnOrAfter exactly, the Conditions within python3-saml's bounded clock
skew, ``ALLOWED_CLOCK_DRIFT`` seconds), and ``InResponseTo`` must be
the id of the request this site sent (stored with the login under way, and
used once). An assertion's id is remembered until the assertion expires,
so a response replayed with another request's id is refused too. Any XML
comment inside the assertion is refused outright (the NameID truncation
attack, CVE-2017-11427, hides one in the NameID).

python3-saml, lxml and requests are imported by the functions that use
them, not here: every process that loads the plugin (the web app, each
``consultroom`` command, the tests' servers) would pay for them without a
SAML login.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from consultroom.db import utcnow
from consultroom.web.sites import org_url
from consultroom_sso.i18n import _
from consultroom_sso.shared import INVALID_TOKEN, Refused, secure_address

METADATA_BYTES = 500_000
HTTP_SECONDS = 10
# An assertion without NotOnOrAfter is remembered this long.
REMEMBER = timedelta(hours=24)
ASSERTION_XPATH = "//*[local-name()='Assertion']"


class MetadataError(ValueError):
    """IdP metadata that cannot be used; ``message`` says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def idp_settings(xml):
    """The IdP's entity id, single sign-on address and certificates, from
    its metadata document; ``MetadataError`` when any is missing."""
    if not xml or len(xml) > METADATA_BYTES:
        raise MetadataError(_("The metadata must be an XML document of at most 500 kB."))
    # A SAML login's: see the module's docstring.
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
    except Exception as exc:  # python3-saml raises whatever lxml raises on bad XML
        raise MetadataError(_("This is not SAML metadata of an identity provider.")) from exc
    idp = parsed.get("idp") or {}
    if not idp.get("entityId") or not idp.get("singleSignOnService", {}).get("url"):
        raise MetadataError(
            _("The metadata names no identity provider with an HTTP-Redirect sign-on address.")
        )
    if not idp.get("x509cert") and not idp.get("x509certMulti"):
        raise MetadataError(
            _("The metadata holds no signing certificate of the identity provider.")
        )
    return idp


def parse_metadata(xml):
    """``xml`` once it is usable IdP metadata; else ``MetadataError``."""
    idp_settings(xml)
    return xml


def fetch_metadata(url):
    """The metadata document at ``url`` (https, or http on this machine)."""
    import requests  # a SAML login's: see the module's docstring

    if not secure_address(url):
        raise MetadataError(_("Enter the metadata's https:// address."))
    try:
        with requests.get(
            url, timeout=HTTP_SECONDS, stream=True, allow_redirects=False
        ) as response:
            response.raise_for_status()
            body = response.raw.read(METADATA_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise MetadataError(_("The metadata could not be fetched from this address.")) from exc
    if len(body) > METADATA_BYTES:
        raise MetadataError(_("The metadata must be an XML document of at most 500 kB."))
    return parse_metadata(body.decode("utf-8", errors="replace"))


def sp_urls(request, connection):
    """The SP's entity id (its metadata's address) and assertion consumer."""
    organisation = request.organisation
    entity = org_url(
        request, organisation, request.route_path("sso.saml_metadata", id=connection.id)
    )
    acs = org_url(request, organisation, request.route_path("sso.saml_acs", id=connection.id))
    return entity, acs


def settings(request, connection, sp_only=False):
    # A SAML login's: see the module's docstring.
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as SAML
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    entity, acs = sp_urls(request, connection)
    values = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": entity,
            "assertionConsumerService": {"url": acs, "binding": SAML.BINDING_HTTP_POST},
            "NameIDFormat": SAML.NAMEID_UNSPECIFIED,
        },
        "security": {
            "authnRequestsSigned": False,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "wantNameId": True,
            "wantAttributeStatement": False,
            "rejectDeprecatedAlgorithm": True,
            "requestedAuthnContext": False,
        },
    }
    if not sp_only:
        values["idp"] = idp_settings(connection.idp_metadata)
    return OneLogin_Saml2_Settings(values, sp_validation_only=sp_only)


def sp_metadata(request, connection):
    return settings(request, connection, sp_only=True).get_sp_metadata()


def _request_data(request, connection, post=None):
    """What python3-saml reads of the request: the address as configured
    (the public URL, not the Host header), and the posted form."""
    _entity, acs = sp_urls(request, connection)
    parts = urlsplit(acs)
    return {
        "https": "on" if parts.scheme == "https" else "off",
        "http_host": parts.netloc,
        "script_name": parts.path,
        "get_data": {},
        "post_data": post or {},
    }


def authn_request(request, connection):
    """The IdP's address with a new authentication request, and the request's id."""
    from onelogin.saml2.auth import OneLogin_Saml2_Auth  # a SAML login's: see the docstring

    try:
        auth = OneLogin_Saml2_Auth(
            _request_data(request, connection), settings(request, connection)
        )
        url = auth.login(set_nameid_policy=False)
    except MetadataError as exc:
        raise Refused("metadata_invalid", exc.message) from exc
    return url, auth.get_last_request_id()


def _document(saml_response):
    from lxml import etree  # a SAML login's: see the module's docstring
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    try:
        xml = OneLogin_Saml2_Utils.b64decode(saml_response)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        return etree.fromstring(xml, parser)
    except Exception as exc:  # bad base64 or XML: nothing to check
        raise Refused("saml_malformed", INVALID_TOKEN) from exc


def in_response_to(saml_response):
    """The request id the response says it answers (unverified: only to
    find the login under way, whose id python3-saml then checks)."""
    return _document(saml_response).get("InResponseTo") or ""


def _refuse_comments(saml_response):
    for assertion in _document(saml_response).xpath(ASSERTION_XPATH):
        if assertion.xpath(".//comment()"):
            raise Refused("saml_xml_comment", INVALID_TOKEN)


def _first(values):
    return str(values[0]).strip() if values else ""


def verified_answer(request, connection, saml_response, request_id):
    """The subject, e-mail address, name, assertion id and its expiry of a
    valid response to ``request_id``; else ``Refused``."""
    # A SAML login's: see the module's docstring.
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError

    if not isinstance(saml_response, str) or len(saml_response) > 2 * METADATA_BYTES:
        raise Refused("saml_malformed", INVALID_TOKEN)
    _refuse_comments(saml_response)
    data = _request_data(request, connection, {"SAMLResponse": saml_response})
    try:
        auth = OneLogin_Saml2_Auth(data, settings(request, connection))
        auth.process_response(request_id=request_id)
    except MetadataError as exc:
        raise Refused("metadata_invalid", exc.message) from exc
    except (OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError, ValueError) as exc:
        raise Refused("saml_invalid", INVALID_TOKEN) from exc
    if auth.get_errors() or not auth.is_authenticated():
        reason = (auth.get_last_error_reason() or "invalid")[:40]
        raise Refused(f"saml_invalid:{reason}"[:60], INVALID_TOKEN)
    subject = auth.get_nameid() or ""
    attributes = auth.get_attributes()
    email = (
        _first(attributes.get(connection.email_attribute))
        if connection.email_attribute
        else subject
    )
    name = _first(attributes.get(connection.name_attribute)) if connection.name_attribute else ""
    expiry = auth.get_last_assertion_not_on_or_after()
    return {
        "sub": subject,
        "email": email.lower(),
        "name": name,
        "assertion_id": auth.get_last_assertion_id() or "",
        "expires_at": _expiry(expiry),
    }


def _expiry(timestamp):
    if timestamp:
        return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)
    return utcnow() + REMEMBER
