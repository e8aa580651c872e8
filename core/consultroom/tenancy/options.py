"""Typed, validated settings stored as JSON: an organisation's advanced
settings, and the settings a plugin declares for each organisation.

Each option knows its type, default, label and how to become a form field, so
one generic edit page serves every list of options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, overload
from urllib.parse import urlsplit

import wtforms
from pyramid.i18n import TranslationString
from wtforms import validators

from consultroom.i18n import _
from consultroom.secretbox import ISecretBox
from consultroom.web.forms import options

# Values by key, each of the type its option says (``coerce``): Any, so that
# code reading one by its key need not check its type again.
Values = Mapping[str, Any]
# A rule that spans several options: the values to {key: message} of what is wrong.
Rule = Callable[[Values], Mapping[str, str]]
FormT = TypeVar("FormT", bound=wtforms.Form)
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
# A secret option's value as stored: encrypted with the secret box, behind this
# mark. A secret without it was stored before secrets were encrypted;
# ``consultroom db upgrade`` seals it.
SEALED = "sealed:"


def seal(text: str, box: ISecretBox) -> str:
    """``text`` encrypted for storing, or "" for ""."""
    return SEALED + box.encrypt(text.encode()).decode() if text else ""


def unseal(stored: str, box: ISecretBox) -> str:
    """The text :func:`seal` made ``stored`` from; a secret stored before
    secrets were sealed, as it is. Raises ``cryptography.fernet.InvalidToken``
    when none of the box's keys sealed it."""
    if not stored.startswith(SEALED):
        return stored
    return box.decrypt(stored.removeprefix(SEALED).encode()).decode()


class SettingsError(ValueError):
    """A value an option refuses, or a key no option has; ``message`` is a
    translation string (``str()`` of the error gives it in English)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        if isinstance(self.message, TranslationString):
            return str(self.message.interpolate())
        return self.message


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    default: object = None
    help: str = ""
    # A secret is never shown back in the form nor written to the audit trail,
    # and is stored sealed (encrypted) where the values are not encrypted whole.
    secret: bool = False

    def coerce(self, raw: object) -> object:
        """The stored value as this option's type; the default if unusable."""
        return self.default if raw is None else raw

    def parse(self, raw: object) -> object:
        """A given value (of the option's type, or text as a command line
        gives it) as this option's type; :class:`SettingsError` when it
        cannot be one."""
        return raw

    def form_field(self) -> wtforms.Field:
        raise NotImplementedError


@dataclass(frozen=True)
class BoolOption(Option):
    default: bool = False

    def coerce(self, raw: object) -> bool:
        return raw if isinstance(raw, bool) else self.default

    def parse(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        word = raw.strip().lower() if isinstance(raw, str) else None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise SettingsError(
            _("${key} is true or false, not ${value}", mapping={"key": self.key, "value": raw})
        )

    def form_field(self) -> wtforms.Field:
        return wtforms.BooleanField(self.label, description=self.help)


def _stop_if_not_a_number(form: wtforms.Form, field: wtforms.Field) -> None:
    # "abc" is not a valid integer; saying it is also out of range confuses.
    if field.process_errors:
        raise validators.StopValidation()


@dataclass(frozen=True)
class IntOption(Option):
    default: int = 0
    minimum: int = 0
    maximum: int = 10**6

    def coerce(self, raw: object) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw if self.minimum <= raw <= self.maximum else self.default
        return self.default

    def parse(self, raw: object) -> int:
        number = _whole_number(raw)
        if number is None or not self.minimum <= number <= self.maximum:
            raise SettingsError(
                _(
                    "${key} is a whole number from ${minimum} to ${maximum}, not ${value}",
                    mapping={
                        "key": self.key,
                        "minimum": self.minimum,
                        "maximum": self.maximum,
                        "value": raw,
                    },
                )
            )
        return number

    def form_field(self) -> wtforms.Field:
        return wtforms.IntegerField(
            self.label,
            description=self.help,
            validators=[
                validators.InputRequired(),
                _stop_if_not_a_number,
                validators.NumberRange(self.minimum, self.maximum),
            ],
        )


@dataclass(frozen=True)
class ChoiceOption(Option):
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) pairs

    def coerce(self, raw: object) -> object:
        # Stored JSON may hold a list or an object: unhashable, never a choice.
        return raw if isinstance(raw, str) and raw in dict(self.choices) else self.default

    def parse(self, raw: object) -> str:
        if isinstance(raw, str) and raw in dict(self.choices):
            return raw
        raise SettingsError(
            _(
                "${key} is one of ${choices}, not ${value}",
                mapping={
                    "key": self.key,
                    "choices": ", ".join(value for value, _label in self.choices),
                    "value": raw,
                },
            )
        )

    def form_field(self) -> wtforms.Field:
        return wtforms.SelectField(self.label, description=self.help, choices=options(self.choices))


@dataclass(frozen=True)
class TextOption(Option):
    default: str = ""
    max_length: int = 2000
    multiline: bool = False
    url: bool = False
    # An address the pages frame or play from another site: https only
    # (its origin goes into the pages' Content-Security-Policy).
    https: bool = False

    def coerce(self, raw: object) -> str:
        return raw if isinstance(raw, str) else self.default

    def parse(self, raw: object) -> str:
        if not isinstance(raw, str):
            raise SettingsError(
                _("${key} is text, not ${value}", mapping={"key": self.key, "value": raw})
            )
        text = raw.strip()
        if len(text) > self.max_length:
            raise SettingsError(
                _(
                    "${key} is at most ${max_length} characters long",
                    mapping={"key": self.key, "max_length": self.max_length},
                )
            )
        if text and self.url and not _is_web_address(text):
            raise SettingsError(
                _(
                    "${key} is an http or https address, not ${value}",
                    mapping={"key": self.key, "value": text},
                )
            )
        if text and self.https and not is_https_address(text):
            raise SettingsError(
                _(
                    "${key} is an https address (https://…), not ${value}",
                    mapping={"key": self.key, "value": text},
                )
            )
        return text

    def form_field(self) -> wtforms.Field:
        checks: list[Callable[[wtforms.Form, wtforms.StringField], None]] = [
            validators.Optional(),
            validators.Length(max=self.max_length),
        ]
        if self.url:
            checks.append(validators.URL(require_tld=False))
        if self.https:
            checks.append(_https_only)
        kind = (
            wtforms.PasswordField
            if self.secret
            else wtforms.TextAreaField
            if self.multiline
            else wtforms.StringField
        )
        return kind(
            self.label,
            description=self.help,
            validators=checks,
            filters=[lambda v: (v or "").strip()],
        )


def _whole_number(raw: object) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def is_https_address(text: str) -> bool:
    """Whether ``text`` is an https address with a host, safe to name in a
    Content-Security-Policy (no spaces, quotes or semicolons)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and not parts.username
        and not parts.password
        and not any(c in text for c in " \t\n;,'\"")
    )


def _https_only(form: wtforms.Form, field: wtforms.Field) -> None:
    if field.data and not is_https_address(field.data):
        raise validators.ValidationError(_("Give an https address, starting with https://."))


def _is_web_address(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in text


@dataclass(frozen=True)
class OptionSet:
    """An ordered list of options plus the rules that span several of them."""

    options: tuple[Option, ...]
    rules: tuple[Rule, ...] = field(default=())

    def values(self, stored: Values | None) -> dict[str, Any]:
        stored = stored or {}
        return {o.key: o.coerce(stored.get(o.key)) for o in self.options}

    @overload
    def form_class(self) -> type[wtforms.Form]: ...

    @overload
    def form_class(self, base: type[FormT]) -> type[FormT]: ...

    def form_class(self, base: type[wtforms.Form] = wtforms.Form) -> type[wtforms.Form]:
        attrs = {o.key: o.form_field() for o in self.options}
        # type() makes a subclass of ``base``, which mypy cannot follow.
        return cast("type[wtforms.Form]", type("OptionsForm", (base,), attrs))

    def from_form(
        self, form: wtforms.Form, stored: Values | None = None, box: ISecretBox | None = None
    ) -> dict[str, Any]:
        """The submitted values; an empty secret field keeps the stored
        secret. With ``box`` a secret given anew is sealed (:func:`seal`);
        without, the caller stores the values encrypted as a whole."""
        kept = self.values(stored)

        def value(option: Option) -> Any:
            given = form[option.key].data
            if not option.secret:
                return given
            if not given:
                return kept[option.key]
            return seal(given, box) if box is not None else given

        return {o.key: value(o) for o in self.options}

    def opened(self, values: Values, box: ISecretBox) -> dict[str, Any]:
        """``values`` with their sealed secrets decrypted: for the code that
        uses a secret, never for a page or a log."""
        secret = self.secret_keys()
        return {k: unseal(v, box) if k in secret and v else v for k, v in values.items()}

    def sealed(self, stored: Values, box: ISecretBox) -> dict[str, Any] | None:
        """``stored`` with every secret not yet sealed sealed, or None when
        there is none."""
        secret = self.secret_keys()
        unsealed = {
            k: seal(v, box)
            for k, v in stored.items()
            if k in secret and isinstance(v, str) and v and not v.startswith(SEALED)
        }
        return {**stored, **unsealed} if unsealed else None

    def secret_keys(self) -> set[str]:
        """The keys of the options declared ``secret``."""
        return {o.key for o in self.options if o.secret}

    def changes(self, old: Values, new: Values) -> dict[str, str | list[Any]]:
        """{key: [old, new]} of what changed, for the audit trail; secrets only by name."""
        secret = self.secret_keys()
        return {
            k: "(changed)" if k in secret else [old.get(k), v]
            for k, v in new.items()
            if old.get(k) != v
        }

    def validate(
        self,
        given: Mapping[str, object],
        stored: Values | None = None,
        box: ISecretBox | None = None,
    ) -> dict[str, Any]:
        """Every option's value: ``given`` (checked and converted, from a
        command line or a test) over ``stored``, over the defaults. A secret
        given is sealed with ``box``, which is needed only then.

        Raises :class:`SettingsError` for a key no option has, a value its
        option refuses, or a rule that spans several options.
        """
        by_key = {o.key: o for o in self.options}
        values = self.values(stored)
        parsed: dict[str, Any] = {}
        for key, raw in given.items():
            if key not in by_key:
                raise SettingsError(
                    _(
                        "there is no setting ${key} (the settings are: ${keys})",
                        mapping={"key": key, "keys": ", ".join(by_key) or "none"},
                    )
                )
            parsed[key] = by_key[key].parse(raw)
        for key, message in self.cross_check({**values, **parsed}).items():
            raise SettingsError(_("${key}: ${message}", mapping={"key": key, "message": message}))
        for key in self.secret_keys() & parsed.keys():
            if parsed[key]:
                if box is None:
                    raise TypeError("a secret setting is stored sealed: give the secret box")
                parsed[key] = seal(parsed[key], box)
        return {**values, **parsed}

    def cross_check(self, values: Values) -> dict[str, str]:
        errors: dict[str, str] = {}
        for rule in self.rules:
            errors.update(rule(values))
        return errors


# Every option here is read by the feature it names (a test checks that each
# key is used outside this module): a setting that does nothing is not shown.
# Those of features still to come arrive with them: the chat options with
# the chat plugin (issue 12), the custom room address with issue 19, the
# client app with the portal of issue 15.
ADVANCED_SETTINGS = OptionSet(
    options=(
        BoolOption(
            "strict_departments",
            _("Strictly segregated departments"),
            help=_(
                "Practitioners and department admins see only the clients"
                " and appointments of their own departments."
            ),
        ),
        BoolOption(
            "strict_clients",
            _("Strictly segregated clients"),
            help=_("A practitioner sees only their own clients."),
        ),
        IntOption(
            "anonymise_after_days",
            _("Anonymise appointments after (days)"),
            default=0,
            minimum=0,
            maximum=3650,
            help=_(
                "0 keeps appointments. Otherwise client data is removed from"
                " appointments older than this; it cannot be recovered."
            ),
        ),
        IntOption(
            "link_open_before_minutes",
            _("Clients may enter before the appointment (minutes)"),
            default=60,
            minimum=0,
            maximum=1440,
        ),
        IntOption(
            "link_open_after_minutes",
            _("Clients may enter after the appointment ended (minutes)"),
            default=60,
            minimum=0,
            maximum=1440,
        ),
        ChoiceOption(
            "participants_join",
            _("Extra participants of an appointment"),
            default="direct",
            choices=(
                ("direct", _("Join the room directly when the client is admitted")),
                ("waiting", _("Wait in the waiting room like the client")),
            ),
            help=_(
                "Family, home care or an interpreter added to an appointment get"
                " their own link. Waiting participants are shown on the waiting"
                " list and come in with the client."
            ),
        ),
        ChoiceOption(
            "two_factor",
            _("Two-factor authentication"),
            default="off",
            choices=(
                ("off", _("Off")),
                ("allow", _("Allowed: staff are asked to turn it on after logging in")),
                ("require", _("Required: staff must turn it on")),
            ),
        ),
        IntOption(
            "session_idle_minutes",
            _("Log staff out after this many idle minutes"),
            default=30,
            minimum=5,
            maximum=480,
            help=_(
                "A staff member who has not used Consultroom for this long is"
                " logged out; a warning comes two minutes before."
            ),
        ),
        BoolOption(
            "allow_remote_support",
            _("Allow remote support access"),
            help=_("The hosting provider's support may act as one of your staff members."),
        ),
        BoolOption("file_sharing", _("Allow file sharing")),
        BoolOption("screen_sharing", _("Allow screen sharing"), default=True),
        ChoiceOption(
            "video_fit",
            _("Frame video playback"),
            default="cover",
            choices=(
                ("cover", _("Cover: fill the frame")),
                ("contain", _("Contain: show the whole picture")),
            ),
        ),
        BoolOption("settings_first", _("Always show the settings first")),
        BoolOption("allow_resolution_change", _("Allow changing the resolution")),
        BoolOption("force_start", _("Allow force start of appointments")),
        BoolOption("no_emails", _("Do not send e-mails")),
        BoolOption("audio_alarm", _("Use audio alarm"), default=True),
        TextOption(
            "disclaimer",
            _("Disclaimer"),
            multiline=True,
            max_length=10000,
            help=_("When filled in, clients must accept it before they enter the waiting room."),
        ),
        IntOption(
            "waiting_long_minutes",
            _("Reassure a waiting client after (minutes)"),
            default=10,
            minimum=0,
            maximum=120,
            help=_(
                "After this long in the waiting room the client reads that they have"
                " not been forgotten, with your phone number (My organisation) if it"
                " is filled in. 0: never."
            ),
        ),
        TextOption(
            "follow_up_text",
            _("Message to the client after the consultation"),
            multiline=True,
            max_length=2000,
            help=_("Shown to the client when the practitioner ends the consultation."),
        ),
        BoolOption(
            "background_effects",
            _("Offer background blur and replacement"),
            default=True,
            help=_(
                "In the consultation room, everyone may blur their background or"
                " replace it with one of your background images. Turn this off"
                " if it confuses your staff or clients."
            ),
        ),
        BoolOption(
            "background_warning",
            _("Warn about a replaced background"),
            help=_(
                "The others in the consultation read a notice while someone's"
                " background is replaced by an image."
            ),
        ),
        TextOption(
            "explainer_url",
            _("Explainer video or animation in the waiting room"),
            max_length=500,
            https=True,
            help=_(
                "The https address of a video, animation or video player page (for"
                " example a YouTube or Vimeo embed address) shown to waiting clients."
            ),
        ),
        TextOption(
            "info_frame_url",
            _('Your own page behind "More information" in the waiting room'),
            max_length=500,
            https=True,
            help=_(
                "The https address of a page of yours; it must allow being framed"
                " (no X-Frame-Options: DENY)."
            ),
        ),
        TextOption(
            "evaluation_url",
            _("Evaluation form after the consultation"),
            max_length=500,
            https=True,
            help=_(
                "The https address of a survey (for example a Google form's embed"
                " address) shown to the client when the consultation has ended."
            ),
        ),
        BoolOption(
            "stop_if_webcam_fails",
            _("Stop if the webcam fails"),
            help=_(
                "A client whose camera cannot be used is sent to the camera and"
                " connection check, and comes back when the camera works."
            ),
        ),
        BoolOption(
            "show_remaining_booking",
            _("Show the number of remaining booking options"),
            help=_("The booking widget says how many appointment times are still free."),
        ),
        TextOption(
            "stun_urls",
            _("Own STUN servers"),
            max_length=1000,
            help=_(
                "Space-separated, like stun:stun.example.org:3478. Leave empty to"
                " use the installation's."
            ),
        ),
        TextOption(
            "turn_urls",
            _("Own TURN servers"),
            max_length=1000,
            help=_(
                "Space-separated, like turns:turn.example.org:5349?transport=tcp."
                " Needs the shared secret below."
            ),
        ),
        TextOption(
            "turn_secret",
            _("Shared secret of your TURN servers"),
            max_length=200,
            secret=True,
            help=_("The static-auth-secret of your coturn servers (use-auth-secret)."),
        ),
    ),
)
