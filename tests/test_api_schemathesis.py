"""schemathesis against the API's own OpenAPI document, on the WSGI app with
the organisation's API key: no input, valid or not, gives a server error,
and every answer is one the document describes (status, content type,
schema).

Each operation gets a bounded number of positive and negative examples, plus
positive ones aimed at existing objects (path ids, and the client, staff and
department ids in bodies), so that updates and bookings really happen."""

from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client, Participant
from consultroom.tenancy.models import Department
from consultroom.testing import BASE_DOMAIN

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HOST = f"alpha.{BASE_DOMAIN}"


@pytest.fixture
def objects(make_organisation, make_user, dbsession):
    org = make_organisation("alpha", settings={"strict_departments": True})
    department = Department(organisation_id=org.id, name="Care")
    dbsession.add(department)
    dbsession.flush()
    practitioner = make_user(org, role=Role.practitioner, department_id=department.id)
    client = Client(
        organisation_id=org.id,
        last_name="Jansen",
        email="jansen@example.org",
        departments=[department],
        practitioners=[practitioner],
    )
    # Deleted by the DELETE examples, so that the others keep their client.
    disposable = Client(organisation_id=org.id, last_name="Weg")
    participant = Participant(organisation_id=org.id, last_name="Interpreter")
    dbsession.add_all([client, disposable, participant])
    dbsession.flush()
    appointment = Appointment(
        organisation_id=org.id,
        client_id=client.id,
        practitioner_id=practitioner.id,
        starts_at=datetime(2031, 1, 1, 9),
    )
    dbsession.add(appointment)
    dbsession.flush()
    key = org.rotate_api_key()
    dbsession.flush()
    return {
        "key": key,
        "id": {"client": client.id, "appointment": appointment.id, "disposable": disposable.id},
        "refs": {
            "client_id": client.id,
            "practitioner_id": practitioner.id,
            "department_id": department.id,
            "participant_ids": [participant.id],
            "department_ids": [department.id],
            "practitioner_ids": [practitioner.id],
        },
    }


def _aim_at(refs):
    """Point the references in a generated body at existing objects, and its
    start into the years the API accepts (2032: a leap year, for 29 February)."""

    def aim(case):
        if isinstance(case.body, dict):
            for name, value in refs.items():
                if name in case.body:
                    case.body[name] = value
            if isinstance(case.body.get("starts_at"), str):
                case.body["starts_at"] = "2032" + case.body["starts_at"][4:]
        return case

    return aim


def _run(operation, strategy, headers):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_no_server_errors_and_answers_match_the_document(app, objects, smtp):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers={"Host": HOST})
    headers = {"Authorization": f"Bearer {objects['key']}", "Host": HOST}
    # Deleting last: random ids hit the shared objects too.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.method == "delete",
    )
    assert len(operations) == 10
    for operation in operations:
        modes = [
            operation.as_strategy(generation_mode=mode)
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        ]
        path = operation.path
        fixed = {}
        if "{id}" in path:
            kind = (
                "appointment"
                if "/appointments/" in path
                else ("disposable" if operation.method == "delete" else "client")
            )
            fixed["id"] = objects["id"][kind]
        aimed = operation.as_strategy(path_parameters=fixed).map(_aim_at(objects["refs"]))
        for strategy in (*modes, aimed):
            _run(operation, strategy, headers)
