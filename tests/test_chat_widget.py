"""The chat plugin's public chat widget over HTTP (plugins/chat,
consultroom_chat.widget and visitor_views): framed only by the
organisation's embed origins, its forms with the widgets' own token and no
cookie; only where chat and its setting "public chat widget" are on; bad
input answered with a clear message; a message left while nobody is on
duty, answered later under Messages ("Website visitors") with an e-mail
that never holds the answer; every staff read audited; another
organisation's staff and tokens see nothing; the worker's days cover it."""

import re
from datetime import timedelta

import pytest
from consultroom_chat import visitors
from consultroom_chat.models import Conversation, Duty, Kind, Message
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.jobs import run_due

from clientmail_support import body_of, path_on

SITE = "https://www.acme.example"


@pytest.fixture
def org(make_organisation, enable_plugin):
    org = make_organisation("acme", name="Acme Care", embed_origins=[SITE])
    enable_plugin(org, "chat", settings={"public_widget": True})
    return org


@pytest.fixture
def doctor(org, make_user):
    return make_user(org, role=Role.practitioner, name="Dr. Duty")


def start(webtest, name="Vera Visser", email="", text="Do you take new patients?"):
    page = webtest("acme").get("/chat/widget")
    form = page.forms[0]
    form["name"], form["email"], form["text"] = name, email, text
    return form.submit()


def conversation_of(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(Conversation).where(Conversation.kind == Kind.visitor)).one()


def test_the_widget_is_framed_by_the_embed_origins_and_needs_no_cookie(webtest, org, dbsession):
    app = webtest("acme")
    page = app.get("/chat/widget")
    policy = page.headers["Content-Security-Policy"].split("; ")
    assert f"frame-ancestors 'self' {SITE}" in policy
    assert "X-Frame-Options" not in page.headers
    assert set(page.forms[0].fields) - {None} == {"form_token", "name", "email", "text"}
    assert "Nobody is answering right now" in page.text
    assert "Set-Cookie" not in page.headers

    form = page.forms[0]
    form["name"], form["text"] = "Vera Visser", "Do you take new patients?"
    app.reset()  # inside another site's iframe no SameSite=Lax cookie comes along
    opened = form.submit(status=303).follow()
    assert f"frame-ancestors 'self' {SITE}" in opened.headers["Content-Security-Policy"]
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert "Do you take new patients?" in opened.text
    config = opened.html.select_one("#chat-widget-config").get_text()
    assert '"role": "chat.visitor"' in config

    conversation = conversation_of(dbsession)
    assert (conversation.visitor_name, conversation.client_id, conversation.department_id) == (
        "Vera Visser",
        None,
        None,
    )
    assert conversation.answer_by_mail  # nobody was on duty
    [body] = dbsession.scalars(select(Message.body)).all()
    assert b"patients" not in body  # encrypted at rest


def test_the_visitor_writes_on_without_the_socket(webtest, org, dbsession):
    page = start(webtest).follow()
    form = page.forms[0]
    form["text"] = "Or on Saturdays?"
    page = form.submit(status=303).follow()
    assert "Or on Saturdays?" in page.text
    form = page.forms[0]
    form["text"] = "   "
    assert "Write a message first." in form.submit(status=200).text


def test_without_chat_or_without_the_setting_there_is_no_widget(
    webtest, make_organisation, enable_plugin, org, doctor, login
):
    make_organisation("plain", embed_origins=[SITE])
    webtest("plain").get("/chat/widget", status=404)
    page = start(webtest).follow()
    token_path = page.request.path
    enable_plugin(org, "chat", settings={"public_widget": False})
    app = webtest("acme")
    app.get("/chat/widget", status=404)
    app.get(token_path, status=404)
    login(app, doctor)
    assert "Website visitors" not in app.get("/messages").text
    app.get("/messages/visitors/1", status=404)
    app.post("/messages/duty", {"csrf_token": "x"}, status=400)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"name": ""}, "Give your name."),
        ({"email": "not an address"}, "Invalid email address."),
        ({"text": "  "}, "Write a message first."),
        ({"text": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_kept(webtest, org, dbsession, values, error):
    response = start(webtest, **values)
    assert response.status_int == 200
    assert error in response.text
    assert dbsession.scalars(select(Conversation.id)).all() == []


def test_a_form_without_a_valid_token_is_refused(webtest, org, dbsession):
    form = webtest("acme").get("/chat/widget").forms[0]
    form["name"], form["text"], form["form_token"] = "Vera", "hello", "123.abc"
    assert "Form expired" in form.submit(status=400).text
    assert dbsession.scalars(select(Conversation.id)).all() == []


def test_a_forged_or_foreign_token_opens_nothing(webtest, org, make_organisation, enable_plugin):
    path = start(webtest).headers["Location"]
    conversation_id, expires, signature = path.rsplit("/", 1)[1].split(".")
    forged = f"/chat/widget/{conversation_id}.{int(expires) + 1}.{signature}"
    page = webtest("acme").get(forged, status=404)
    assert "This conversation has ended or its address has expired" in page.text
    assert page.forms[0]["name"].value == ""  # start again
    webtest("acme").get("/chat/widget/1", status=404)
    other = make_organisation("other", embed_origins=[SITE])
    enable_plugin(other, "chat", settings={"public_widget": True})
    webtest("other").get(f"/chat/widget/{path.rsplit('/', 1)[1]}", status=404)


def _mails(smtp):
    return [m for m in smtp.messages if "has answered your message" in m["Subject"]]


def test_a_message_left_is_answered_under_messages_and_the_visitor_told_by_mail(
    webtest, org, doctor, login, dbsession, smtp
):
    start(webtest, email="vera@example.org", text="Please call me back")
    conversation = conversation_of(dbsession)
    app = webtest("acme")
    login(app, doctor)
    listing = app.get("/messages")
    section = listing.html.select_one("[data-chat-visitors]")
    assert "Website visitors" in section.get_text()
    row = section.select_one(f'[data-conversation="{conversation.id}"]')
    assert "Vera Visser" in row.get_text()
    assert row.select_one("[data-unread]").get_text() == "1"

    assert "Please call me back" in app.get(f"/messages/visitors/{conversation.id}").text
    reads = dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "chat.read")).all()
    assert [(r.user_id, r.object_id) for r in reads] == [(doctor.id, str(conversation.id))]
    assert app.get("/messages").html.select_one("[data-unread]").get("hidden") is not None

    answer(app, conversation, "We call you at three")
    answer(app, conversation, "Or tomorrow")
    [mail] = _mails(smtp)  # once, until the visitor has read it
    assert mail["To"] == "vera@example.org"
    text = body_of(mail)
    assert "three" not in text and "tomorrow" not in text and "call me back" not in text
    link = re.search(r"https?://\S+", text).group(0)
    visitor_page = webtest("acme").get(path_on(link, "acme"))
    assert "We call you at three" in visitor_page.text

    answer(app, conversation, "Did you get this?")
    assert len(_mails(smtp)) == 2  # the visitor had read the others


def answer(app, conversation, text):
    form = app.get(f"/messages/visitors/{conversation.id}").forms[1]
    form["text"] = text
    form.submit(status=303)


def test_staff_on_duty_make_the_widget_live_and_answers_send_no_mail(
    webtest, org, doctor, login, dbsession, smtp
):
    app = webtest("acme")
    login(app, doctor)
    form = app.get("/messages").forms[1]  # forms[0] is the logout form
    form["answering"] = True
    form.submit(status=303)
    assert dbsession.get(Duty, doctor.id).answering
    assert "We are here" in webtest("acme").get("/chat/widget").text

    start(webtest, email="vera@example.org")
    conversation = conversation_of(dbsession)
    assert not conversation.answer_by_mail
    answer(app, conversation, "Yes we do")
    assert _mails(smtp) == []

    form = app.get("/messages").forms[1]
    form["answering"] = False
    form.submit(status=303)
    assert "Nobody is answering" in webtest("acme").get("/chat/widget").text


def test_every_staff_member_sees_visitors_but_no_other_organisation(
    webtest, org, make_user, make_organisation, enable_plugin, login, dbsession
):
    start(webtest)
    conversation = conversation_of(dbsession)
    admin = make_user(org, role=Role.dept_admin, name="Dept Admin")
    app = webtest("acme")
    login(app, admin)
    assert "Vera Visser" in app.get(f"/messages/visitors/{conversation.id}").text

    other = make_organisation("other")
    enable_plugin(other, "chat", settings={"public_widget": True})
    stranger = webtest("other")
    login(stranger, make_user(other, role=Role.org_admin))
    stranger.get(f"/messages/visitors/{conversation.id}", status=404)
    assert "Vera Visser" not in stranger.get("/messages").text


def test_the_worker_deletes_old_visitor_conversations_with_their_last_message(
    app, webtest, org, enable_plugin, dbsession
):
    enable_plugin(org, "chat", settings={"public_widget": True, "delete_after_days": 30})
    start(webtest, name="Old Visitor")
    start(webtest, name="New Visitor")
    old = dbsession.scalars(select(Message).order_by(Message.id)).first()
    old.at = utcnow() - timedelta(days=31)
    dbsession.flush()
    assert run_due(app.registry)["chat.delete_old_messages"] == 1
    dbsession.expire_all()
    names = dbsession.scalars(select(Conversation.visitor_name)).all()
    assert names == ["New Visitor"]


def test_a_visitor_token_is_for_its_purpose_and_organisation(app, org, dbsession):
    conversation = Conversation(organisation_id=org.id, kind=Kind.visitor, visitor_name="V")
    dbsession.add(conversation)
    dbsession.flush()
    registry = app.registry
    token = visitors.token_for(registry, conversation, visitors.SOCKET)
    assert visitors.conversation_id_of(registry, org.id, token, visitors.SOCKET) == conversation.id
    assert visitors.conversation_id_of(registry, org.id, token, visitors.PAGE) is None
    assert visitors.conversation_id_of(registry, org.id + 1, token, visitors.SOCKET) is None
    for bad in ("", "1.2", "x" * 500, "١.٢.abc", None, 5):
        assert visitors.conversation_id_of(registry, org.id, bad, visitors.SOCKET) is None


def test_a_visitors_message_counts_in_the_menu_and_the_top_bar_until_read(
    webtest, org, doctor, login, dbsession
):
    start(webtest)
    app = webtest("acme")
    login(app, doctor)
    home = app.get("/").html
    assert "Messages (1)" in home.text
    assert home.select_one("header .top-bar a.chat-unread")["aria-label"] == "1 unread messages"
    app.get(f"/messages/visitors/{conversation_of(dbsession).id}")
    home = app.get("/").html
    assert "Messages (1)" not in home.text and home.select_one(".chat-unread") is None
