"""OpenID Connect, the relying party's side: the provider's discovery
document and keys (cached per process), the authorization request with PKCE
(S256), state and nonce, the code exchanged for tokens (authlib's client),
and the ID token checked before anyone is believed.

The ID token must be signed with RS256 or ES256 (``none`` and HS256 are
refused before a key is looked at: an HS256 token "signed" with the
provider's public key proves nothing), by a key of the provider's JWKS
(fetched again when a token names a key id not seen yet, at most once a
minute), and carry this connection's issuer and audience, an expiry in the
future, an issue time not in the future, and the nonce stored with the
login. Google's ``hd`` and Microsoft's ``tid`` are checked on the token,
never only asked for.

requests, authlib's client and joserfc are imported by the functions that
use them, not here: together ~200 ms that every process loading the plugin
(the web app, each ``consultroom`` command, the tests' servers) would pay
without a login.
"""

import threading
import time
from dataclasses import dataclass

from consultroom_sso.i18n import _
from consultroom_sso.models import Kind
from consultroom_sso.shared import INVALID_TOKEN, Refused, secure_address, split_list

ALGORITHMS = ("RS256", "ES256")
LEEWAY = 60  # seconds of clock difference allowed with the provider
DISCOVERY_SECONDS = 3600
JWKS_SECONDS = 3600
JWKS_REFRESH_SECONDS = (
    60  # a token with an unknown key id fetches the keys again at most this often
)
HTTP_SECONDS = 10
SCOPE = "openid email profile"


UNREACHABLE = _("The identity provider cannot be reached just now. Try again in a moment.")


@dataclass
class _Cached:
    value: object
    fetched: float


class _Cache:
    """Documents fetched over HTTP, per address, for a while (thread-safe)."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def get(self, url, max_age):
        with self._lock:
            item = self._items.get(url)
        if item is not None and time.time() - item.fetched < max_age:
            return item.value
        return None

    def age(self, url):
        with self._lock:
            item = self._items.get(url)
        return time.time() - item.fetched if item else None

    def put(self, url, value):
        with self._lock:
            self._items[url] = _Cached(value, time.time())
        return value


_documents = _Cache()
_key_sets = _Cache()


def _fetch_json(url):
    import requests  # a login's: see the module's docstring

    try:
        # No redirects: the addresses are the admin's and the provider's own.
        response = requests.get(
            url,
            timeout=HTTP_SECONDS,
            headers={"Accept": "application/json"},
            allow_redirects=False,
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise Refused("provider_unreachable", UNREACHABLE) from exc
    if not isinstance(document, dict):
        raise Refused("provider_unreachable", UNREACHABLE)
    return document


def discovery(issuer):
    """The provider's discovery document (``/.well-known/openid-configuration``)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _documents.get(url, DISCOVERY_SECONDS)
    if document is None:
        document = _fetch_json(url)
        endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get("issuer"), str) or not all(
            isinstance(document.get(key), str) and secure_address(document[key])
            for key in endpoints
        ):
            raise Refused("discovery_invalid", UNREACHABLE)
        _documents.put(url, document)
    return document


def _key_set(jwks_uri, kid):
    """The provider's keys, fetched again if they do not hold ``kid``."""
    from joserfc.errors import JoseError  # a login's: see the module's docstring
    from joserfc.jwk import KeySet

    keys = _key_sets.get(jwks_uri, JWKS_SECONDS)
    age = _key_sets.age(jwks_uri)
    stale = keys is not None and kid is not None and kid not in {k.kid for k in keys.keys}
    if keys is None or (stale and age is not None and age >= JWKS_REFRESH_SECONDS):
        try:
            keys = _key_sets.put(jwks_uri, KeySet.import_key_set(_fetch_json(jwks_uri)))
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise Refused("provider_keys", INVALID_TOKEN) from exc
    return keys


def client(connection, secret, redirect_uri):
    # A login's: see the module's docstring.
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        client_id=connection.client_id,
        client_secret=secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        # The name of an OAuth client authentication method, not a secret.
        token_endpoint_auth_method="client_secret_post",  # nosec B106
    )


def authorization_url(connection, session, *, state, nonce, code_verifier):
    """Where to send the browser: the provider's authorization endpoint."""
    metadata = discovery(connection.issuer)
    extra = {}
    domains = split_list(connection.allowed_domains)
    if connection.kind is Kind.google and len(domains) == 1:
        extra["hd"] = domains[0]  # a hint for Google's account chooser; checked on the token
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"],
        state=state,
        nonce=nonce,
        code_verifier=code_verifier,
        **extra,
    )
    return url


def exchange(connection, session, *, code, code_verifier):
    """The ID token the provider gives for ``code`` (with the PKCE verifier)."""
    import requests  # a login's: see the module's docstring

    metadata = discovery(connection.issuer)
    try:
        token = session.fetch_token(
            metadata["token_endpoint"],
            code=code,
            code_verifier=code_verifier,
            timeout=HTTP_SECONDS,
        )
    except requests.RequestException as exc:
        raise Refused("provider_unreachable", UNREACHABLE) from exc
    except Exception as exc:  # authlib's OAuth2Error: the provider refused the code
        raise Refused("code_refused", INVALID_TOKEN) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise Refused("no_id_token", INVALID_TOKEN)
    return id_token


def _header(id_token):
    from joserfc import jws  # a login's: see the module's docstring
    from joserfc.errors import JoseError

    try:
        return jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError) as exc:
        raise Refused("token_malformed", INVALID_TOKEN) from exc


def _expected_issuer(connection, metadata, claims):
    issuer = metadata["issuer"]
    if connection.kind is Kind.microsoft:
        # Microsoft's multi-tenant endpoints name the issuer with the tenant left open.
        issuer = issuer.replace("{tenantid}", str(claims.get("tid", "")))
    return issuer


def verify_id_token(connection, id_token, nonce):
    """The ID token's claims, once everything about it is checked; else ``Refused``."""
    from joserfc import jwt  # a login's: see the module's docstring
    from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError

    metadata = discovery(connection.issuer)
    header = _header(id_token)
    if header.get("alg") not in ALGORITHMS:
        raise Refused("algorithm_refused", INVALID_TOKEN)
    keys = _key_set(metadata["jwks_uri"], header.get("kid"))
    try:
        claims = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS)).claims
    except (BadSignatureError, InvalidKeyIdError) as exc:
        raise Refused("bad_signature", INVALID_TOKEN) from exc
    except (JoseError, ValueError) as exc:
        raise Refused("token_malformed", INVALID_TOKEN) from exc
    _check_claims(connection, metadata, claims, nonce)
    _check_organisation(connection, claims)
    return claims


def _check_claims(connection, metadata, claims, nonce):
    from joserfc import jwt  # a login's: see the module's docstring
    from joserfc.errors import ClaimError, ExpiredTokenError, MissingClaimError

    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": _expected_issuer(connection, metadata, claims)},
        aud={"essential": True, "value": connection.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise Refused("token_expired", _("The login took too long: try again.")) from exc
    except MissingClaimError as exc:
        raise Refused(f"claim_missing:{exc.claim}"[:60], INVALID_TOKEN) from exc
    except ClaimError as exc:
        raise Refused(f"claim_invalid:{exc.claim}"[:60], INVALID_TOKEN) from exc
    audience = claims["aud"]
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != connection.client_id
    ):
        raise Refused("claim_invalid:azp", INVALID_TOKEN)


def _check_organisation(connection, claims):
    """Google's Workspace domain or Microsoft's tenant must be one the admin allowed."""
    if connection.kind is Kind.google:
        domain = str(claims.get("hd") or "").lower()
        if domain not in split_list(connection.allowed_domains):
            raise Refused(
                "domain_not_allowed",
                _("Accounts of this Google domain cannot log in here. Use your work account."),
            )
    if connection.kind is Kind.microsoft:
        tenant = str(claims.get("tid") or "").lower()
        if tenant not in split_list(connection.allowed_tenants):
            raise Refused(
                "tenant_not_allowed",
                _(
                    "Accounts of this Microsoft organisation cannot log in here."
                    " Use your work account."
                ),
            )


def verified_email(claims):
    """The e-mail address the provider vouches for, or ''."""
    email = claims.get("email")
    if isinstance(email, str) and claims.get("email_verified") in (True, "true"):
        return email.strip().lower()[:254]
    return ""


def used_second_factor(claims):
    """Whether the provider says it checked a second factor (``amr`` holds "mfa")."""
    methods = claims.get("amr")
    return isinstance(methods, list) and "mfa" in methods
