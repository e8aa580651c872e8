"""A local SAML 2.0 identity provider for the single sign-on tests: pysaml2's
IdP (signing with Debian's xmlsec1) with a throwaway RSA key and
self-signed certificate, served over HTTP on 127.0.0.1 in a thread.

``GET /metadata`` is its metadata document; ``GET /sso`` takes the
service provider's authentication request (HTTP-Redirect binding) and
answers, for ``idp.person``, with the HTML form that posts the signed
response to the SP's assertion consumer (HTTP-POST binding), as a browser
would get it. ``idp.answer(...)`` makes a response directly, for the tests
that need one the IdP would not send (unsigned, unsolicited).
"""

import base64
import datetime
import html
import re
import threading
from urllib.parse import parse_qsl
from wsgiref.simple_server import make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sso_provider import QuietHandler, ThreadingServer

FORM_FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')
FORM_ACTION = re.compile(r'action="([^"]*)"')


def _key_and_certificate(directory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-idp")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


class IdentityProvider:
    def __init__(self, directory):
        self.key_file, self.cert_file = _key_and_certificate(directory)
        self.httpd = make_server(
            "127.0.0.1", 0, self.app, server_class=ThreadingServer, handler_class=QuietHandler
        )
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.person = {}
        self.sign_assertion = True
        self.sign_response = False
        self.lifetime_minutes = 5  # of its assertions
        self.server = None
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _config(self, sp_metadata):
        config = {
            "entityid": self.base + "/metadata",
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(self.base + "/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": self.lifetime_minutes},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_BASIC,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                    "want_authn_requests_signed": False,
                }
            },
            "key_file": self.key_file,
            "cert_file": self.cert_file,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
        }
        loaded = IdPConfig()
        loaded.load(config)
        return loaded

    def trust(self, sp_metadata):
        """Know the service provider (its metadata document)."""
        self.server = Server(config=self._config(sp_metadata))

    def metadata(self):
        return create_metadata_string(None, config=self._config(None), valid=24).decode()

    def answer(self, in_response_to, destination, sp_entity_id):
        """A response for ``person`` (signed as the attributes say)."""
        person = dict(self.person)
        response = self.server.create_authn_response(
            identity={k: [v] for k, v in person.items() if k != "nameid"},
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=person["nameid"]),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_assertion=self.sign_assertion,
            sign_response=self.sign_response,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(response)

    def _sso(self, query):
        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        message = request.message
        xml = self.answer(message.id, message.assertion_consumer_service_url, message.issuer.text)
        http = self.server.apply_binding(
            BINDING_HTTP_POST,
            xml,
            message.assertion_consumer_service_url,
            query.get("RelayState", ""),
            response=True,
        )
        return http["data"]

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        if path == "/metadata":
            status, kind, body = "200 OK", "application/samlmetadata+xml", self.metadata()
        elif path == "/sso":
            status, kind, body = "200 OK", "text/html", self._sso(query)
        else:
            status, kind, body = "404 Not Found", "text/plain", ""
        start_response(status, [("Content-Type", kind)])
        return [body.encode()]


def posted_form(page):
    """The assertion consumer's address and the fields of the IdP's form."""
    action = html.unescape(FORM_ACTION.search(page).group(1))
    fields = {name: html.unescape(value) for name, value in FORM_FIELD.findall(page)}
    return action, fields


def decode(saml_response):
    return base64.b64decode(saml_response)


def encode(xml):
    return base64.b64encode(xml).decode()
