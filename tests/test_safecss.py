"""The safe CSS subset (consultroom.web.safecss): what is refused, with which
line, and that what passes comes out re-serialised from the parse tree."""

import pytest
from pyramid.i18n import Localizer

from consultroom.web.safecss import MAX_LENGTH, UnsafeCSS, clean_css

pytestmark = pytest.mark.sqlite_only


def refusal(css):
    with pytest.raises(UnsafeCSS) as caught:
        clean_css(css)
    return Localizer("en", None).translate(caught.value.message)


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        ('@import "https://evil.example/x.css";', "@import is not allowed"),
        ("@import url(/static/css/main.css);", "@import is not allowed"),
        ("@IMPORT 'x.css';", "@import is not allowed"),
        ("a { color: red }\n\n@import 'x.css';", "Line 3: @import"),
        ("a { background: url(http://evil.example/x.png) }", "url() may only point"),
        ("a { background: url('https://evil.example/x.png') }", "url() may only point"),
        ("a { background: URL(//evil.example/x.png) }", "url() may only point"),
        ("a { background: url(/static/../x?leak=1) }", "url() may only point"),
        ("a { background: url(data:image/png;base64,AAAA) }", "url() may only point"),
        ("a { background: url(javascript:alert(1)) }", "cannot be read"),
        ('a { background: url("javascript:alert(1)") }', "url() may only point"),
        ("a { background: u\\72l(http://evil.example/) }", "url() may only point"),
        ("a { background: url(x.png) }", "url() may only point"),
        ("a { background: url(/a\\\\b) }", "url() may only point"),
        ("a { background: image-set('https://evil.example/x.png' 1x) }", "image-set() is not"),
        ("a { background: src('https://evil.example/x.png') }", "src() is not allowed"),
        ("a { width: expression(alert(1)) }", "expression() is not allowed"),
        ("a { width: EXPRESSION(alert(1)) }", "expression() is not allowed"),
        ("a { width: calc(1px + expression(alert(1))) }", "expression() is not allowed"),
        ("a { behavior: url(/x.htc) }", "the property behavior is not allowed"),
        ("a { -moz-binding: url(/x.xml#y) }", "the property -moz-binding is not"),
        ("a { -MOZ-BINDING: none }", "the property -moz-binding is not"),
        ("a { -ms-behavior: none }", "the property -ms-behavior is not"),
        ('a { content: "javascript:alert(1)" }', "script addresses are not allowed"),
        ('a { content: "vbscript :x" }', "script addresses are not allowed"),
        ('a { content: "</style><script>alert(1)</script>" }', 'may not contain "</"'),
        ("@namespace svg url(http://www.w3.org/2000/svg);", "@namespace is not allowed"),
        ('@charset "utf-8";', "@charset is not allowed"),
        ("@font-feature-values Font { @swash { x: 1 } }", "@font-feature-values is not"),
        ("@font-face { font-family: x; src: url(https://evil.example/f.woff) }", "url() may"),
        ("@media screen { a { background: url(http://evil.example/) } }", "url() may only"),
        ("@media screen { @import 'x'; }", "@import is not allowed"),
        ("@media screen;", "@media needs a block"),
        ("a { color: red }}", "cannot be read"),
        ("a { color: red }} b { color: red }", "Line 1: this CSS cannot be read"),
        ("}", "cannot be read"),
        ("a { color: red } b; c { color: blue }", '";" is out of place'),
        ("a { color: { red } }", "block in braces is not allowed"),
        ("a { col@r: red }", "cannot be read"),
        ("a { 1color: red }", "cannot be read"),
        ("a { color: red; b { background: url(http://evil.example/) } }", "url() may"),
        ("a:not(url(http://evil.example/)) { color: red }", "url() may only"),
        ("a { background: url(/x.png, /y.png) }", "cannot be read"),
        ("a { background: attr(href url) url() }", "url() may only point"),
        ("a { background: -webkit-image-set(url(/x.png) 1x) }", "image-set() is not"),
        ("a { background: element(#x) }", "element() is not allowed"),
    ],
)
def test_refused(css, expected):
    assert expected in refusal(css)


@pytest.mark.parametrize(
    "css",
    [
        "",
        "   \n  ",
        "/* only a comment */",
        ".room-stage { background: #102030; border-radius: 8px }",
        "body { font-size: 1.25rem !important }",
        ":root { --brand: rgb(10 20 30 / 50%); color: var(--brand) }",
        "a:hover, a:focus-visible { outline: 3px solid color-mix(in srgb, red 40%, blue) }",
        "li:nth-child(2n+1):not(.x) { margin: calc(1rem + 2px) }",
        "@media (min-width: 40em) and (prefers-reduced-motion: reduce) { a { color: red } }",
        "@supports (display: grid) { .room { display: grid } }",
        "@keyframes pulse { from { opacity: 0 } 50% { opacity: .5 } to { opacity: 1 } }",
        "@font-face { font-family: Calm; src: url(/static/fonts/calm.woff2) format('woff2') }",
        ".room { grid-template-areas: 'header header' 'stage side'; grid-template-columns:"
        " minmax(0, 1fr) 20rem }",
        ".logo { background: url(/media/logo-1.png) no-repeat, linear-gradient(#fff, #eee) }",
        "a[href^='/static/'] { text-decoration: underline }",
        'a::after { content: "→ " attr(title) }',
        "a { color: red; &:hover { color: blue } }",
        "a { color: red",
    ],
)
def test_allowed(css):
    cleaned = clean_css(css)
    # What comes out parses to the same result again (it is the parse tree).
    assert clean_css(cleaned) == cleaned


def test_output_is_reserialised():
    css = "/* note */ a   {  COLOR : Red ;;  background:url( /static/x.png ) } "
    assert clean_css(css) == "a {color: Red; background: url(/static/x.png)}"


def test_keeps_quoted_own_urls_and_important():
    css = 'p { background: url("/media/a.png") !important }'
    assert clean_css(css) == 'p {background: url("/media/a.png") !important}'


def test_comments_are_dropped():
    cleaned = clean_css("a /* </style> */ { color: red /* secret */ } /* secret */")
    assert cleaned == "a {color: red}"


def test_too_long():
    assert "too long" in refusal("a{}" * (MAX_LENGTH // 3 + 1))


def test_escaped_names_are_read_as_decoded():
    # \69 is "i": "@\69mport" is @import, and "beh\61vior" is behavior.
    assert "@import" in refusal("@\\69mport 'x';")
    assert "behavior" in refusal("a { beh\\61vior: url(/x) }")


def test_line_numbers():
    css = "a { color: red }\nb {\n  color: blue;\n  background: url(http://x/)\n}"
    assert refusal(css).startswith("Line 4:")
