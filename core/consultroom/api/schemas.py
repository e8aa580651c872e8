"""The API's request and response bodies as pydantic models: they validate
what comes in and are the source of the OpenAPI document's schemas.

Times come in as ISO 8601 with a UTC offset (a naive time is ambiguous and
refused) and go out in UTC with ``Z``. Every id and number has bounds, so
that nothing a caller sends can overflow a database column.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from consultroom.appointments.service import MAX_DURATION
from consultroom.i18n import LANGUAGES, _

# Database ids are 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1
MAX_PAGE = 100
# Appointments outside these years are typing mistakes, and converting them
# to local time near the ends of the calendar would overflow.
FIRST_YEAR, LAST_YEAR = 2000, 2199
# The shape of an e-mail address, as web.forms.EmailAddress checks it.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*$"


def _storable(value):
    """PostgreSQL refuses NUL characters and lone surrogates cannot be encoded."""
    if "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("must be valid Unicode text")) from None
    return value


def _text(max_length, min_length=0, **kw):
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length, **kw), AfterValidator(_storable)
    ]


def _to_utc(value):
    """An aware datetime as the naive UTC the database stores."""
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(_("is outside the supported range of dates")) from None


def _plausible_year(value):
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            _(
                "must be between the years ${first} and ${last}",
                mapping={"first": FIRST_YEAR, "last": LAST_YEAR},
            )
        )
    return value


def _not_in_future(value):
    if value > date.today():
        raise ValueError(_("must not be in the future"))
    return value


def _whole_number(value):
    """JSON Schema counts 3.0 as an integer, so the API does too (not 3.5, nor true)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _utc_z(value):
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


Int = Annotated[int, BeforeValidator(_whole_number)]
Id = Annotated[Int, Field(ge=1, le=MAX_ID)]
# Input: with an offset; validated into naive UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_to_utc)]
StartTime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    AfterValidator(_plausible_year),
    Field(description=f"With a UTC offset; between the years {FIRST_YEAR} and {LAST_YEAR}."),
]
# Output: naive UTC from the database, written with "Z".
UtcTime = Annotated[
    datetime,
    PlainSerializer(_utc_z, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Language = Literal[tuple(LANGUAGES)]
Status = Literal["scheduled", "cancelled"]
Kind = Literal["appointment", "quick", "walk_in"]
Ids = Annotated[list[Id], Field(max_length=100)]
Duration = Annotated[Int, Field(ge=5, le=MAX_DURATION)]
Email = _text(254, pattern=f"^$|{EMAIL_PATTERN}")
BirthDate = Annotated[date, AfterValidator(_not_in_future)]


class Input(BaseModel):
    """Request bodies: unknown fields are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---- clients


class ClientFields(Input):
    initials: _text(20) = ""
    last_name: _text(200, min_length=1)
    date_of_birth: BirthDate | None = None
    email: Email = ""
    phone: _text(50) = ""
    client_number: _text(100) = ""
    language: Language = "en"
    department_ids: Ids = []
    practitioner_ids: Ids = []


class ClientCreate(ClientFields):
    """A new client."""


class ClientUpdate(ClientFields):
    """Only the fields given change."""

    last_name: _text(200, min_length=1) = None  # type: ignore[assignment]


class ClientOut(BaseModel):
    id: int
    initials: str
    last_name: str
    date_of_birth: date | None
    email: str
    phone: str
    client_number: str
    language: str
    department_ids: list[int]
    practitioner_ids: list[int]
    created_at: UtcTime

    @classmethod
    def of(cls, client):
        return cls(
            id=client.id,
            initials=client.initials,
            last_name=client.last_name,
            date_of_birth=client.date_of_birth,
            email=client.email,
            phone=client.phone,
            client_number=client.client_number,
            language=client.language,
            department_ids=sorted(d.id for d in client.departments),
            practitioner_ids=sorted(p.id for p in client.practitioners),
            created_at=client.created_at,
        )


class Listed(BaseModel):
    """What every list answers besides its items."""

    limit: int
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null on the last page."
    )
    total: int | None = Field(
        None, description="How many items the whole list has: only with total=true."
    )


class ClientList(Listed):
    items: list[ClientOut]


class Paging(Input):
    limit: Annotated[Int, Field(ge=1, le=MAX_PAGE, description="Items per page.")] = 50
    cursor: str = Field(  # type: ignore[assignment]
        None,
        description="The next_cursor of the previous page, with the same filters;"
        " left out: the first page.",
    )
    total: bool = Field(False, description="Also count the whole list (slower on long lists).")


class ClientQuery(Paging):
    q: _text(200) = None  # type: ignore[assignment]


# ---- appointments


class AppointmentCreate(Input):
    """A new appointment with a practitioner, or with a department when
    departments are strictly segregated. The client gets an invitation."""

    client_id: Id
    practitioner_id: Id | None = None
    department_id: Id | None = None
    starts_at: StartTime
    duration_minutes: Duration = 20
    message: _text(5000) = ""
    participant_ids: Ids = []


class AppointmentUpdate(Input):
    """Only the fields given change; the client is told when the time,
    duration, practitioner or department changed."""

    client_id: Id = None  # type: ignore[assignment]
    practitioner_id: Id | None = None
    department_id: Id | None = None
    starts_at: StartTime = None  # type: ignore[assignment]
    duration_minutes: Duration = None  # type: ignore[assignment]
    message: _text(5000) = None  # type: ignore[assignment]
    participant_ids: Ids = None  # type: ignore[assignment]


class AppointmentOut(BaseModel):
    id: int
    client_id: int | None
    practitioner_id: int | None
    department_id: int | None
    kind: Kind
    status: Status
    starts_at: UtcTime
    ends_at: UtcTime
    duration_minutes: int
    message: str
    participant_ids: list[int]
    created_at: UtcTime
    updated_at: UtcTime

    @classmethod
    def of(cls, appointment):
        return cls(**_appointment_fields(appointment, (p.id for p in appointment.participants)))


def _appointment_fields(appointment, participant_ids):
    return {
        "id": appointment.id,
        "client_id": appointment.client_id,
        "practitioner_id": appointment.practitioner_id,
        "department_id": appointment.department_id,
        "kind": appointment.kind.value,
        "status": appointment.status.value,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "duration_minutes": appointment.duration_minutes,
        "message": appointment.message,
        "participant_ids": sorted(participant_ids),
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


class AppointmentList(Listed):
    items: list[AppointmentOut]


class AppointmentQuery(Paging):
    model_config = ConfigDict(populate_by_name=True)

    from_: Moment = Field(
        None, alias="from", description="Only appointments starting at or after this time."
    )
    to: Moment = Field(None, description="Only appointments starting before this time.")
    practitioner: Id = None  # type: ignore[assignment]
    client: Id = None  # type: ignore[assignment]
    status: Status = None  # type: ignore[assignment]


# Models whose fields are all optional: left out means unchanged.
PARTIAL = (ClientUpdate, AppointmentUpdate)


# ---- errors


class ErrorDetail(BaseModel):
    field: str
    message: str


class Error(BaseModel):
    error: str
    details: list[ErrorDetail] = []
