"""The advanced settings page in sections: each a heading, a short
explanation and its own form, saved on its own (a bad value in one section
saves nothing of it and leaves the others as they were). An option that no
section names (a new one) is shown under "Other settings"."""

from dataclasses import dataclass

from consultroom.i18n import _
from consultroom.tenancy.options import OptionSet


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    help: str
    keys: tuple[str, ...]


ADVANCED_SECTIONS = (
    Section(
        "privacy",
        _("Privacy and records"),
        _("Who sees which clients and appointments, and how long client data is kept."),
        ("strict_departments", "strict_clients", "anonymise_after_days"),
    ),
    Section(
        "waiting",
        _("Waiting room"),
        _(
            "When clients may come in through their link, what they read before"
            " they enter and while they wait, and how staff hear of them."
        ),
        (
            "link_open_before_minutes",
            "link_open_after_minutes",
            "disclaimer",
            "waiting_long_minutes",
            "explainer_url",
            "info_frame_url",
            "stop_if_webcam_fails",
            "participants_join",
            "audio_alarm",
            "force_start",
        ),
    ),
    Section(
        "consultation",
        _("Consultation room"),
        _("What the practitioner and the client can do during the video call, and after it."),
        (
            "file_sharing",
            "screen_sharing",
            "video_fit",
            "settings_first",
            "allow_resolution_change",
            "background_effects",
            "background_warning",
            "follow_up_text",
            "evaluation_url",
        ),
    ),
    Section(
        "booking",
        _("Booking widget"),
        _("What visitors of your booking widget on your website see."),
        ("show_remaining_booking",),
    ),
    Section(
        "email",
        _("E-mail"),
        _("Whether clients get e-mail from Consultroom at all."),
        ("no_emails",),
    ),
    Section(
        "security",
        _("Logging in and security"),
        _("How staff log in, when they are logged out, and who else may act for them."),
        ("two_factor", "session_idle_minutes", "allow_remote_support"),
    ),
    Section(
        "network",
        _("Network"),
        _(
            "Only for organisations with their own STUN or TURN servers;"
            " leave these empty to use the installation's."
        ),
        ("stun_urls", "turn_urls", "turn_secret"),
    ),
)


def sections_of(option_set, sections=ADVANCED_SECTIONS):
    """(section, the OptionSet of its options) in the page's order; the
    options no section names go in a last "other" section."""
    by_key = {o.key: o for o in option_set.options}
    named = {key for section in sections for key in section.keys}
    rest = tuple(key for key in by_key if key not in named)
    parts = [*sections, *([Section("other", _("Other settings"), "", rest)] if rest else [])]
    return [
        (section, OptionSet(tuple(by_key[key] for key in section.keys if key in by_key)))
        for section in parts
    ]
