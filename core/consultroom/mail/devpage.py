"""Development only: read the messages the folder transport wrote, on the
bare base domain at /_dev/mail. Not registered unless ``consultroom.dev``
is on and the core's outbox sends mail to a folder."""

from email import message_from_bytes, policy

from pyramid.httpexceptions import HTTPNotFound

from consultroom.mail import mail_outbox
from consultroom.mail.transports import FolderTransport


def _messages(transport):
    files = (
        sorted(transport.folder.glob("*.eml"), reverse=True) if transport.folder.exists() else []
    )
    return files


def _parse(path):
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("plain",))
    return {
        "name": path.stem,
        "to": msg["To"],
        "subject": msg["Subject"],
        "date": msg["Date"],
        "text": body.get_content() if body else "",
    }


def mail_list(request):
    transport = mail_outbox(request.registry).transport
    return {"messages": [_parse(p) for p in _messages(transport)[:200]]}


def mail_detail(request):
    transport = mail_outbox(request.registry).transport
    name = request.matchdict["name"]
    path = transport.folder / f"{name}.eml"
    if not name.isdigit() or not path.exists():
        raise HTTPNotFound()
    return {"message": _parse(path)}


def includeme(config):
    settings = config.get_settings()
    dev = settings.get("consultroom.dev", "false").lower() == "true"
    if not dev or not isinstance(mail_outbox(config.registry).transport, FolderTransport):
        return
    config.add_route("dev_mail", "/_dev/mail", site="console")
    config.add_route("dev_mail_detail", "/_dev/mail/{name}", site="console")
    config.add_view(mail_list, route_name="dev_mail", renderer="dev_mail.html")
    config.add_view(mail_detail, route_name="dev_mail_detail", renderer="dev_mail.html")
