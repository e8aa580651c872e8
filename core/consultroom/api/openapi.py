"""The OpenAPI 3.1 document of the API, built from the pydantic models in
schemas.py and the table of operations below (one entry per view: a test
checks that the two agree)."""

import functools
import re
from dataclasses import dataclass

from pydantic.json_schema import models_json_schema
from pyramid.view import view_config

from consultroom.api import ROUTES, schemas

# "{id:[0-9]{1,18}}": a pattern may hold one level of braces.
PLACEHOLDER = re.compile(r"\{(\w+):(?:[^{}]|\{[^{}]*\})*\}")
# The route's id pattern: 1 to 18 digits.
ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
}
ERRORS = {
    400: "The body is not JSON, or is too large; or the cursor is not one this list gave"
    " (another list's, another organisation's, or with other filters).",
    401: "No valid API key or session.",
    403: "Not allowed: a session without its CSRF token, or a change that would put the"
    " object out of the caller's sight.",
    404: "No such object in this organisation, or not visible to the caller.",
    409: "The time was just taken, the appointment is cancelled, or the client number is"
    " already another client's in one of the client's departments.",
    415: "The body is not sent as application/json.",
    422: "Some fields are not valid: each problem is in details, by field.",
    429: "Too many failed API key attempts from this address.",
}
ALWAYS = (401, 403, 429)


@dataclass(frozen=True)
class Operation:
    route: str
    method: str
    operation_id: str
    summary: str
    response: type | None = None  # None: 204 No Content
    status: int = 200
    body: type | None = None
    query: type | None = None
    errors: tuple = ()

    @property
    def path(self):
        return PLACEHOLDER.sub(r"{\1}", ROUTES[self.route])


OPERATIONS = (
    Operation(
        "api.clients",
        "get",
        "listClients",
        "Clients the caller may see; q searches name, number and e-mail.",
        schemas.ClientList,
        query=schemas.ClientQuery,
        errors=(400, 422),
    ),
    Operation(
        "api.clients",
        "post",
        "createClient",
        "Add a client.",
        schemas.ClientOut,
        201,
        body=schemas.ClientCreate,
        errors=(409,),
    ),
    Operation("api.client", "get", "getClient", "One client.", schemas.ClientOut),
    Operation(
        "api.client",
        "patch",
        "updateClient",
        "Change a client's fields.",
        schemas.ClientOut,
        body=schemas.ClientUpdate,
        errors=(409,),
    ),
    Operation(
        "api.client",
        "delete",
        "deleteClient",
        "Delete a client; their appointments stay without them.",
        None,
        204,
    ),
    Operation(
        "api.appointments",
        "get",
        "listAppointments",
        "Appointments the caller may see, by start time.",
        schemas.AppointmentList,
        query=schemas.AppointmentQuery,
        errors=(400, 422),
    ),
    Operation(
        "api.appointments",
        "post",
        "createAppointment",
        "Book an appointment; the client gets an invitation.",
        schemas.AppointmentOut,
        201,
        body=schemas.AppointmentCreate,
        errors=(409,),
    ),
    Operation(
        "api.appointment", "get", "getAppointment", "One appointment.", schemas.AppointmentOut
    ),
    Operation(
        "api.appointment",
        "patch",
        "updateAppointment",
        "Move or change an appointment; the client is told of a new time.",
        schemas.AppointmentOut,
        body=schemas.AppointmentUpdate,
        errors=(409,),
    ),
    Operation(
        "api.appointment_cancel",
        "post",
        "cancelAppointment",
        "Cancel an appointment; the client is told. Cancelling twice is harmless.",
        schemas.AppointmentOut,
    ),
)


def _models():
    models = {(schemas.Error, "serialization")}
    for op in OPERATIONS:
        if op.response:
            models.add((op.response, "serialization"))
        if op.body:
            models.add((op.body, "validation"))
    return sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))


def _parameters(model):
    """Query parameters from a model's fields."""
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        if prop.get("default", 0) is None:
            del prop["default"]
        description = prop.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _json(ref):
    return {"application/json": {"schema": {"$ref": ref}}}


def _operation(op, refs):
    result = {"operationId": op.operation_id, "summary": op.summary, "parameters": []}
    if "{id}" in op.path:
        result["parameters"].append(ID_PARAMETER)
    if op.query:
        result["parameters"].extend(_parameters(op.query))
    if op.body:
        result["requestBody"] = {"required": True, "content": _json(refs[op.body, "validation"])}
    errors = set(ALWAYS) | set(op.errors)
    if op.body:
        errors |= {400, 415, 422}
    if "{id}" in op.path:
        errors.add(404)
    responses = {}
    if op.response is None:
        responses[str(op.status)] = {"description": "Done."}
    else:
        responses[str(op.status)] = {
            "description": "OK.",
            "content": _json(refs[op.response, "serialization"]),
        }
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    result["responses"] = responses
    return result


def _tidy(defs):
    """No "default": null on fields that cannot be null (an unset optional
    field), and no defaults at all in partial updates: there, a field left
    out stays as it is."""
    for name, schema in defs.items():
        partial = getattr(schemas, name, None) in schemas.PARTIAL
        for prop in schema.get("properties", {}).values():
            if partial or (prop.get("default", 0) is None and "anyOf" not in prop):
                prop.pop("default", None)
    return defs


@functools.cache
def document():
    """The document without its server (which depends on the request)."""
    keys, defs = models_json_schema(_models(), ref_template="#/components/schemas/{model}")
    refs = {pair: ref["$ref"] for pair, ref in keys.items()}
    error_ref = refs[schemas.Error, "serialization"]
    paths = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Consultroom API",
            "version": "1.0",
            "description": (
                "Clients and appointments of one organisation. Authenticate with the"
                " organisation's API key: 'Authorization: Bearer <key>'. Staff pages may"
                " also call it with their session (then the X-CSRF-Token header is needed"
                " for changes, and the staff member sees only what their pages show)."
                " Times: ISO 8601 with a UTC offset in, UTC with 'Z' out. Lists come a page"
                " at a time: pass a page's next_cursor as cursor (with the same filters) for"
                " the next one; next_cursor is null on the last page. The total is counted"
                " only with total=true."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": _tidy(defs["$defs"]),
            "responses": {
                f"E{status}": {"description": text, "content": _json(error_ref)}
                for status, text in ERRORS.items()
            },
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
    }


@view_config(route_name="api.openapi", renderer="json", request_method="GET")
def openapi_json(request):
    return {**document(), "servers": [{"url": request.application_url}]}
