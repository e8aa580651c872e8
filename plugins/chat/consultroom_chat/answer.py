"""A staff member's page of one conversation (a client's channel, a website
visitor's): their answer, then the history. Shared by the two pages."""

from pyramid.httpexceptions import HTTPSeeOther

from consultroom_chat import service


def answer_page(request, conversation, write, route):
    """A staff member's page of one conversation: on a POST their answer
    (``write(text)``, which raises ``service.Invalid``) and back to the page
    at ``route``; else the history, read (audited) and marked read.
    Returns ``(redirect, None)`` or ``(None, the template's values)``."""
    error = None
    if request.method == "POST":
        try:
            write(request.POST.get("text"))
        except service.Invalid as exc:
            error = exc.args[0]
        else:
            return HTTPSeeOther(request.route_path(route, id=conversation.id)), None
    history = service.history(request, conversation, reader=request.identity)
    service.mark_read(request, conversation, request.identity)
    return None, {"history": history, "error": error}
