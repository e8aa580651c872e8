"""The API's error texts are in the caller's language: the one its request
asks for (Accept-Language), else the organisation's; the messages of the
schemas' own checks are translated too (with their values filled in)."""

import pytest


@pytest.fixture
def dutch(make_organisation, dbsession):
    org = make_organisation("alpha", language="nl")
    key = org.rotate_api_key()
    dbsession.flush()
    return org, key


def _call(webtest, method, url, key, body=None, **headers):
    app = webtest("alpha")
    headers = {"Authorization": f"Bearer {key}", **headers}
    if body is not None:
        return app.post_json(url, body, headers=headers, expect_errors=True)
    return getattr(app, method)(url, headers=headers, expect_errors=True)


def test_without_accept_language_the_organisations_language(webtest, dutch):
    _org, key = dutch
    missing = _call(webtest, "get", "/api/v1/nothing-here", key)
    assert missing.status_int == 404 and missing.json["error"] == "Niet gevonden."
    wrong_key = _call(webtest, "get", "/api/v1/clients", "x" * 43)
    assert wrong_key.status_int == 401
    assert wrong_key.json["error"] == "Deze API-sleutel is hier niet geldig."
    method = _call(webtest, "delete", "/api/v1/clients", key)
    assert method.status_int == 405
    assert method.json["error"] == "Deze methode is hier niet toegestaan."


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Not found."), ("de", "Nicht gefunden."), ("sv-SE,sv;q=0.9", "Hittades inte.")],
)
def test_accept_language_wins(webtest, dutch, language, text):
    _org, key = dutch
    answer = _call(webtest, "get", "/api/v1/nothing-here", key, **{"Accept-Language": language})
    assert answer.status_int == 404 and answer.json["error"] == text


def test_the_schemas_own_checks_are_translated_with_their_values(webtest, dutch):
    _org, key = dutch
    answer = _call(
        webtest,
        "post",
        "/api/v1/clients",
        key,
        body={"last_name": "Jansen", "date_of_birth": "2999-01-01"},
        **{"Accept-Language": "en"},
    )
    assert answer.status_int == 422
    [problem] = answer.json["details"]
    assert problem == {"field": "date_of_birth", "message": "must not be in the future"}
    late = _call(
        webtest,
        "post",
        "/api/v1/appointments",
        key,
        body={"client_id": 1, "starts_at": "1990-01-01T10:00:00Z"},
        **{"Accept-Language": "en"},
    )
    assert late.status_int == 422
    messages = {d["field"]: d["message"] for d in late.json["details"]}
    assert messages["starts_at"] == "must be between the years 2000 and 2199"


def test_pydantics_own_messages_pass_through(webtest, dutch):
    _org, key = dutch
    # Its context holds a text here, not an exception.
    answer = _call(webtest, "get", "/api/v1/appointments?from=", key, **{"Accept-Language": "en"})
    assert answer.status_int == 422
    [problem] = answer.json["details"]
    assert problem["field"] == "from" and problem["message"].startswith("Input should be")
