"""Custom CSS limited to a safe subset: parsed with tinycss2, checked against
allow-lists and written out again from the parse tree, never pasted.

API (also used by the web pages' "advanced CSS")::

    from consultroom.web.safecss import clean_css, UnsafeCSS, SafeCSS

    try:
        css = clean_css(text)      # the cleaned, re-serialised stylesheet
    except UnsafeCSS as error:
        error.message              # a translation string naming the line

    class MyForm(Form):
        css = TextAreaField(validators=[SafeCSS()])   # field.data is cleaned

What is refused, with the line it is on:

- every at-rule but ``@media``, ``@supports``, ``@keyframes`` (and vendor
  ``-webkit-keyframes``), ``@font-face`` and ``@page``: ``@import``,
  ``@namespace`` and ``@charset`` by name;
- ``url()`` (and ``url`` tokens) unless the address is a path on the
  installation's own origin: it starts with one ``/`` and has only letters,
  digits and ``/ . _ ~ -`` (no scheme, no ``//host``, no query, no
  ``data:``). Other sites' addresses would leak the visitor's IP address
  and, with attribute selectors, what the page shows;
- functions that are not on an allow-list (colours, maths, gradients,
  transforms, filters, grid, ``var()``, selector pseudo-classes); among them
  ``expression()``, ``image-set()`` and ``src()``, which load addresses
  from plain strings;
- the properties ``behavior``, ``-ms-behavior``, ``-moz-binding``,
  ``binding`` and ``-o-link``, which run code in old browsers;
- ``javascript:`` (or ``vbscript:``) anywhere, and ``</`` (which would end
  a ``<style>`` element the CSS is inlined in);
- whatever tinycss2 reports as a parse error, stray braces, and text longer
  than ``MAX_LENGTH``.

Comments are dropped. The result is safe to serve as a stylesheet from our
own origin or in a ``<style nonce>`` element.
"""

import re

import tinycss2
import wtforms

from consultroom.i18n import _

MAX_LENGTH = 50_000

ALLOWED_AT_RULES = {
    "media",
    "supports",
    "keyframes",
    "-webkit-keyframes",
    "font-face",
    "page",
}
# At-rules whose block holds rules (the others hold declarations).
RULE_BLOCKS = {"media", "supports", "keyframes", "-webkit-keyframes"}

ALLOWED_FUNCTIONS = {
    # colours
    *"rgb rgba hsl hsla hwb lab lch oklab oklch color color-mix light-dark".split(),
    # maths and variables
    *"calc min max clamp var env abs sign round mod rem".split(),
    # gradients
    *"linear-gradient radial-gradient conic-gradient repeating-linear-gradient".split(),
    *"repeating-radial-gradient repeating-conic-gradient".split(),
    # transforms
    *"translate translatex translatey translatez translate3d rotate rotatex".split(),
    *"rotatey rotatez rotate3d scale scalex scaley scalez scale3d skew skewx".split(),
    *"skewy matrix matrix3d perspective".split(),
    # filters
    *"blur brightness contrast drop-shadow grayscale hue-rotate invert".split(),
    *"opacity saturate sepia".split(),
    # timing, grid, text, fonts, shapes
    *"cubic-bezier steps minmax repeat fit-content counter counters attr".split(),
    *"format local inset circle ellipse polygon".split(),
    # selectors
    *"not is where has nth-child nth-last-child nth-of-type nth-last-of-type".split(),
    *"lang dir host host-context part slotted".split(),
}

FORBIDDEN_PROPERTIES = {"behavior", "-ms-behavior", "-moz-binding", "binding", "-o-link"}
PROPERTY = re.compile(r"^(--[A-Za-z0-9_-]+|-?[a-z][a-z0-9-]*)$")
OWN_PATH = re.compile(r"^/(?!/)[A-Za-z0-9._~/-]*$")
SCRIPT_SCHEME = re.compile(r"(java|vb)script\s*:", re.IGNORECASE)
# Tokens a selector or at-rule prelude may not hold: a stray brace or
# semicolon means the author's rules are not what they look like.
STRAY = {"{", "}", ";"}

PARSE_OPTIONS = {"skip_comments": True, "skip_whitespace": True}


class UnsafeCSS(ValueError):
    """The CSS was refused; ``message`` is a translation string naming the
    problem and the line it is on."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _line(node):
    return getattr(node, "source_line", None) or 1


def at(node, **mapping):
    """A message's mapping: the node's line, and ``mapping``."""
    return {"line": _line(node), **mapping}


def clean_css(text):
    """The stylesheet ``text`` re-serialised from its parse tree, or
    :class:`UnsafeCSS`. Empty or blank text gives ``""``."""
    if len(text) > MAX_LENGTH:
        raise UnsafeCSS(
            _(
                "The CSS is too long: at most ${max} characters.",
                mapping={"max": MAX_LENGTH},
            )
        )
    rules = tinycss2.parse_stylesheet(text, **PARSE_OPTIONS)
    cleaned = "\n".join(_rule(rule) for rule in rules)
    if "</" in cleaned:
        raise UnsafeCSS(_('The CSS may not contain "</".'))
    return cleaned


def _unreadable(error):
    """Refuse what tinycss2 reported as a parse error."""
    raise UnsafeCSS(
        _(
            "Line ${line}: this CSS cannot be read; check the braces, quotes and semicolons there.",
            mapping=at(error),
        )
    )


def _rule(node):
    if node.type == "error":
        _unreadable(node)
    if node.type == "at-rule":
        return _at_rule(node)
    if node.type == "qualified-rule":
        prelude = _tokens(node.prelude, stray=True)
        return f"{prelude.strip()} {{{_declarations(node.content)}}}"
    raise UnsafeCSS(_("Line ${line}: this CSS cannot be read.", mapping=at(node)))


def _at_rule(node):
    name = node.lower_at_keyword
    if name == "import":
        raise UnsafeCSS(
            _("Line ${line}: @import is not allowed: put the rules here instead.", mapping=at(node))
        )
    if name not in ALLOWED_AT_RULES:
        raise UnsafeCSS(
            _("Line ${line}: @${name} is not allowed in custom CSS.", mapping=at(node, name=name))
        )
    prelude = _tokens(node.prelude, stray=True).strip()
    if node.content is None:
        raise UnsafeCSS(
            _("Line ${line}: @${name} needs a block in braces.", mapping=at(node, name=name))
        )
    if name in RULE_BLOCKS:
        rules = tinycss2.parse_rule_list(node.content, **PARSE_OPTIONS)
        body = "\n".join(_rule(rule) for rule in rules)
    else:
        body = _declarations(node.content)
    head = f"@{name} {prelude}" if prelude else f"@{name}"
    return f"{head} {{{body}}}"


def _declarations(content):
    """A block's declarations (and nested rules, CSS nesting) cleaned."""
    parts = []
    for node in tinycss2.parse_blocks_contents(content, **PARSE_OPTIONS):
        if node.type == "declaration":
            parts.append(_declaration(node))
        else:
            parts.append(_rule(node))
    return "; ".join(parts)


def _declaration(node):
    name = node.lower_name if not node.name.startswith("--") else node.name
    if name in FORBIDDEN_PROPERTIES:
        raise UnsafeCSS(
            _("Line ${line}: the property ${name} is not allowed.", mapping=at(node, name=name))
        )
    if not PROPERTY.match(name):
        raise UnsafeCSS(
            _("Line ${line}: ${name} is not a CSS property name.", mapping=at(node, name=name))
        )
    value = _tokens(node.value, stray=False).strip()
    important = " !important" if node.important else ""
    return f"{name}: {value}{important}"


def _tokens(tokens, stray):
    """Tokens (a prelude or a value) checked and serialised."""
    for token in tokens:
        _check_token(token, stray)
    return tinycss2.serialize(tokens)


def _check_token(token, stray):
    kind = token.type
    if kind == "error":
        _unreadable(token)
    if kind == "url":
        _check_url(token, token.value)
    elif kind == "function":
        _check_function(token, stray)
    elif kind in ("() block", "[] block"):
        for inner in token.content:
            _check_token(inner, stray)
    elif kind == "{} block":
        raise UnsafeCSS(
            _("Line ${line}: a block in braces is not allowed here.", mapping=at(token))
        )
    elif kind in ("string", "ident") and SCRIPT_SCHEME.search(token.value):
        raise UnsafeCSS(
            _("Line ${line}: script addresses are not allowed in CSS.", mapping=at(token))
        )
    elif stray and kind == "literal" and token.value in STRAY:
        raise UnsafeCSS(
            _('Line ${line}: "${char}" is out of place.', mapping=at(token, char=token.value))
        )


def _check_function(token, stray):
    name = token.lower_name
    if name == "url":
        arguments = [t for t in token.arguments if t.type not in ("whitespace", "comment")]
        if len(arguments) != 1 or arguments[0].type != "string":
            raise UnsafeCSS(_("Line ${line}: url() takes one address.", mapping=at(token)))
        _check_url(token, arguments[0].value)
        return
    if name == "expression":
        raise UnsafeCSS(_("Line ${line}: expression() is not allowed.", mapping=at(token)))
    if name not in ALLOWED_FUNCTIONS:
        raise UnsafeCSS(
            _("Line ${line}: the function ${name}() is not allowed.", mapping=at(token, name=name))
        )
    for inner in token.arguments:
        _check_token(inner, stray)


def _check_url(token, address):
    if not OWN_PATH.match(address.strip()):
        raise UnsafeCSS(
            _(
                "Line ${line}: url() may only point to a path on this site"
                " (starting with /, letters, digits and / . _ - only).",
                mapping=at(token),
            )
        )


class SafeCSS:
    """A WTForms validator: refuses unsafe CSS with the reason and line, and
    replaces the field's data with the cleaned stylesheet."""

    def __call__(self, form, field):
        try:
            field.data = clean_css(field.data or "")
        except UnsafeCSS as error:
            raise wtforms.validators.ValidationError(error.message) from None
