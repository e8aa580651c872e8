"""A local OpenID Connect provider for the single sign-on tests, built with
authlib's framework-agnostic server classes (authorization code grant, PKCE
S256 required, the OpenID Connect extension signing ID tokens with an RSA
key) and served over HTTP on 127.0.0.1 in a thread.

Whoever opens the authorization endpoint is logged in at once as
``provider.person`` (the claims a test sets: sub, email, hd, tid, amr...).
``provider.tamper`` re-signs the ID token of the next token response, to
hand the relying party the answers a real provider never gives (an expired
token, another audience, ``alg=none``, HS256 keyed with the public key).
``provider.rotate()`` replaces the signing key with one of a new ``kid``.
"""

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc import jwt
from joserfc.jwk import RSAKey

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
CLIENT_ID = "consultroom-test"
CLIENT_SECRET = "test-client-secret"  # nosec B105


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.startswith("http://")

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_post"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return int(self.issued)

    def get_acr(self):
        return None

    def get_amr(self):
        return self.person.get("amr")


class Payload(OAuth2Payload):
    def __init__(self, values):
        self._values = values

    @property
    def data(self):
        return self._values

    @property
    def datalist(self):
        return {key: [value] for key, value in self._values.items()}


class Request(OAuth2Request):
    def __init__(self, environ, form):
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        host = environ["HTTP_HOST"]
        uri = f"http://{host}{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}"
        super().__init__(environ["REQUEST_METHOD"], uri, headers={})
        self._query, self._form = query, form
        self.payload = Payload({**query, **form})

    @property
    def args(self):
        return self._query

    @property
    def form(self):
        return self._form


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        self.server.provider.codes[code] = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=data.get("redirect_uri", ""),
            scope=request.scope,
            person=dict(request.user),
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code, client):
        found = self.server.provider.codes.get(code)
        return found if found is not None and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code):
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.person


class IDToken(OpenIDCode):
    def __init__(self, provider):
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return False

    def resolve_client_private_key(self, client):
        return self.provider.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.key.kid}

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer, "aud": [client.get_client_id()]}

    def generate_user_info(self, user, scope):
        return UserInfo({k: v for k, v in user.items() if k != "amr"})


class Server(AuthorizationServer):
    def __init__(self, provider):
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.provider = provider
        self.register_token_generator("default", BearerTokenGenerator(self._access_token))
        self.register_grant(CodeGrant, [CodeChallenge(required=True), IDToken(provider)])

    @staticmethod
    def _access_token(client, grant_type, user, scope):
        return secrets.token_urlsafe(32)

    def query_client(self, client_id):
        return self.provider.clients.get(client_id)

    def save_token(self, token, request):
        pass

    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        if isinstance(body, dict):
            body = json.dumps(body)
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Provider:
    """The provider, its server thread, and what the tests set on it."""

    def __init__(self):
        self.codes = {}
        self.clients = {CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET)}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig"})
        self.old_keys = []
        self.person = {}
        self.discovery_changes = {}
        self.tamper = None
        self.jwks_fetches = 0
        self.token_requests = []
        self.authorize_requests = []
        self.server = Server(self)
        self.httpd = make_server(
            "127.0.0.1", 0, self.app, server_class=ThreadingServer, handler_class=QuietHandler
        )
        self.issuer = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def rotate(self):
        """A new signing key with a new kid; the JWKS publishes only it."""
        n = len(self.old_keys) + 2
        self.old_keys.append(self.key)
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"key-{n}", "use": "sig"})

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            **self.discovery_changes,
        }

    def sign(self, header, claims, key=None):
        """An ID token as the provider's key (or ``key``) signs it."""
        return jwt.encode(header, claims, key or self.key, algorithms=[header["alg"]])

    def _retouched(self, body):
        token = json.loads(body)
        if self.tamper is not None and "id_token" in token:
            decoded = jwt.decode(token["id_token"], self.key, algorithms=["RS256"])
            token["id_token"] = self.tamper(self, dict(decoded.header), dict(decoded.claims))
            self.tamper = None
        return json.dumps(token)

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        form = {}
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        request = Request(environ, form)
        if path == "/.well-known/openid-configuration":
            status, body, headers = 200, json.dumps(self.discovery()), []
        elif path == "/jwks":
            self.jwks_fetches += 1
            keys = {"keys": [self.key.as_dict(private=False)]}
            status, body, headers = 200, json.dumps(keys), []
        elif path == "/authorize":
            self.authorize_requests.append(dict(request.args))
            person = dict(self.person)
            try:
                grant = self.server.get_consent_grant(request, end_user=person)
            except OAuth2Error as error:
                status, body, headers = self.server.handle_error_response(request, error)
            else:
                status, body, headers = self.server.create_authorization_response(
                    request, grant_user=person, grant=grant
                )
        elif path == "/token":
            self.token_requests.append(form)
            status, body, headers = self.server.create_token_response(request)
            if status == 200:
                body = self._retouched(body)
        else:
            status, body, headers = 404, "{}", []
        headers = [*headers, ("Content-Type", "application/json")]
        start_response(f"{status} X", headers)
        return [(body or "").encode()]


def redirect_target(response):
    """The path and query of the provider's redirect back to the site."""
    location = urlsplit(response.headers["Location"])
    return location.path + "?" + location.query
