"""Fields that plugins add to the staff's appointment form (the
``consultroom_appointment_form_fields`` hook): what such a field provides,
and how the form collects, renders, validates and saves them.

A plugin field is validated together with the core's fields and saved only
after the appointment itself has been stored, inside the same transaction:
a refused value leaves nothing written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from markupsafe import Markup

if TYPE_CHECKING:
    from pyramid.request import Request
    from webob.multidict import MultiDict

    from consultroom.appointments.models import Appointment


class FieldInvalid(Exception):  # noqa: N818 (it is what the plugin says: "invalid")
    """Raised by :meth:`AppointmentField.validate` with the message to show
    at the field (a translation string of the plugin's domain, or text
    already translated)."""


class AppointmentField(Protocol):
    """One field a plugin adds to the appointment form.

    ``name`` is the field's form parameter: prefix it with the plugin's id
    (``payments_rate``) so that it cannot clash with the core's fields or
    another plugin's (a clash stops the page with an error naming it).
    """

    name: str

    def render(
        self,
        request: Request,
        appointment: Appointment | None,
        posted: MultiDict | None,
        error: str | None,
    ) -> str:
        """The field's HTML: its label and input(s), named ``name``.

        ``appointment`` is ``None`` on the new-appointment form;
        ``posted`` is the posted form when it is shown again (show what
        was posted), else ``None`` (show the appointment's saved value or
        your default); ``error`` is the translated message when the value
        was refused (the core shows it below the field, as
        ``<p class="error" id="<name>-error">``: point ``aria-describedby``
        there). Escape what you did not write yourself.
        """
        ...

    def validate(self, request: Request, appointment: Appointment | None, posted: MultiDict) -> Any:
        """The value to save, from the posted form; raise
        :class:`FieldInvalid` to refuse it. Changes nothing."""
        ...

    def save(self, request: Request, appointment: Appointment, value: Any) -> None:
        """Store ``value`` for ``appointment`` (which has its id), in the
        appointment's transaction: raising undoes the whole change."""
        ...


def form_fields(request: Request, appointment: Appointment | None, taken: set[str]) -> list:
    """The plugin fields of the form, in registration order. ``taken`` are
    the core form's own parameter names."""
    results = request.hooks.consultroom_appointment_form_fields(
        request=request, appointment=appointment
    )
    fields = [f for result in reversed(results) for f in (result or [])]
    seen = set(taken) | {"csrf_token"}
    for field in fields:
        if field.name in seen:
            # A programming error of a plugin, not something a user can fix.
            raise ValueError(f"appointment form field {field.name!r} is defined twice")
        seen.add(field.name)
    return fields


def validate(
    request: Request, fields: list, appointment: Appointment | None
) -> tuple[list[tuple[Any, Any]], dict[str, str]]:
    """``([(field, value), ...], {name: translated error})`` for a post."""
    values, errors = [], {}
    for field in fields:
        try:
            values.append((field, field.validate(request, appointment, request.POST)))
        except FieldInvalid as exc:
            errors[field.name] = request.localizer.translate(exc.args[0])
    return values, errors


def render(
    request: Request, fields: list, appointment: Appointment | None, errors: dict[str, str]
) -> Markup:
    """Every field's HTML, each in the core's field wrapper with its error."""
    posted = request.POST if request.method == "POST" else None
    parts = []
    for field in fields:
        error = errors.get(field.name)
        # Field HTML comes from installed plugin code, trusted like the core.
        rendered = field.render(request, appointment, posted, error)
        html = Markup(rendered)  # nosec B704
        css = "field plugin-field has-error" if error else "field plugin-field"
        message = (
            Markup('<p class="error" role="alert" id="{}-error">{}</p>').format(field.name, error)
            if error
            else ""
        )
        parts.append(Markup('<div class="{}">{}{}</div>').format(css, html, message))
    return Markup("").join(parts)


def save(request: Request, appointment: Appointment, values: list[tuple[Any, Any]]) -> None:
    """Let each field store its value, now that the appointment has its id."""
    for field, value in values:
        field.save(request, appointment, value)
