"""The Content-Security-Policy sources a plugin declares
(``PluginInfo(csp={"script-src": ["https://js.stripe.com"]})``): checked when
the plugin is loaded, and added by ``consultroom.web.headers`` to the
responses of the organisations that enabled it.

A plugin may widen only the fetch directives that name where a page loads
or sends things from, and only by named HTTPS hosts (``wss://`` hosts for
``connect-src``) or hashes of its inline scripts and styles: never a whole
scheme, ``*``, ``'unsafe-inline'`` or ``'unsafe-eval'``, which would undo
the policy for every page of the organisation, and never ``default-src``,
``object-src``, ``base-uri`` or ``frame-ancestors`` (who may frame the
organisation's pages is its own setting, "Widgets")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

DIRECTIVES = frozenset(
    {
        "connect-src",
        "font-src",
        "form-action",
        "frame-src",
        "img-src",
        "manifest-src",
        "media-src",
        "script-src",
        "style-src",
        "worker-src",
    }
)
# A host source with its scheme: a DNS name (its first label may be "*"),
# an optional port and path. No quotes, spaces, ";" or ",", which would
# end the source or the directive in the header.
_HOST = r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?"
_PATH = r"(/[A-Za-z0-9._~%!$&'()*+=:@/-]*)?"
_HTTPS = re.compile(rf"https://{_HOST}{_PATH}", re.IGNORECASE)
_WSS = re.compile(rf"wss://{_HOST}{_PATH}", re.IGNORECASE)
_HASH = re.compile(r"'sha(256|384|512)-[A-Za-z0-9+/]+={0,2}'")


def _source_problem(directive: str, source: object) -> str:
    if not isinstance(source, str):
        return f"declares a {directive} source that is not a string: {source!r}"
    if _HTTPS.fullmatch(source):
        return ""
    if directive == "connect-src" and _WSS.fullmatch(source):
        return ""
    if directive in ("script-src", "style-src") and _HASH.fullmatch(source):
        return ""
    return (
        f"declares the CSP source {source!r} for {directive}: only https:// hosts"
        " (wss:// in connect-src) and, in script-src and style-src, 'sha256-...' hashes"
    )


def csp_problem(csp: object) -> str:
    """Why a plugin's declared CSP additions are refused; "" when they are fine."""
    if not isinstance(csp, Mapping):
        return "declares csp that is not a mapping of directive to sources"
    for directive, sources in csp.items():
        if directive not in DIRECTIVES:
            allowed = ", ".join(sorted(DIRECTIVES))
            return f"declares the CSP directive {directive!r}: only {allowed} may be extended"
        if isinstance(sources, str) or not isinstance(sources, Sequence):
            return f"declares {directive} sources that are not a list of strings"
        for source in sources:
            problem = _source_problem(directive, source)
            if problem:
                return problem
    return ""


def additions(declared: Iterable[Mapping[str, Sequence[str]]]) -> dict[str, list[str]]:
    """The declared sources of several plugins merged, per directive, each once."""
    merged: dict[str, list[str]] = {}
    for csp in declared:
        for directive, sources in csp.items():
            known = merged.setdefault(directive, [])
            known.extend(s for s in sources if s not in known)
    return merged
