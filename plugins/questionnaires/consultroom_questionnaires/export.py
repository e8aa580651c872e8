"""A client's answers to download: as plain text and as PDF (drawn with
reportlab), both in the reader's language and with the same lines, so that
what the PDF shows can be checked against the text. The PDF embeds the
uploaded images.

reportlab's PDF machinery is imported by the functions that draw, not here:
~60 ms that every process loading the plugin would pay without an export.
(Its page sizes and units are light.)"""

from html import escape
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from consultroom.web.pdf_fonts import sample_styles
from consultroom_questionnaires.i18n import _

IMAGE_WIDTH = 120 * mm


def lines(t, response, client, rows, status_label):
    """The export as ``[(kind, text)]``: kind "heading", "section", "line"
    or "image" (text: the field key)."""
    when = response.finished_at or response.updated_at
    head = [
        ("heading", response.version.title),
        ("line", t(_("Client: ${name}", mapping={"name": client.display_name}))),
        (
            "line",
            " · ".join(
                part
                for part in (
                    t(status_label),
                    when.strftime("%d-%m-%Y %H:%M") if when else "",
                    t(_("version ${n}", mapping={"n": response.version.number})),
                )
                if part
            ),
        ),
    ]
    body = []
    for field, text in rows:
        if field["type"] == "title":
            body.append(("section", field["label"]))
        elif field["type"] == "paragraph":
            continue
        else:
            shown = text if text is not None else t(_("not answered"))
            body.append(("line", f"{field['label']}: {shown}"))
    return head + body


def as_text(parts):
    out = []
    for kind, text in parts:
        if kind == "heading":
            out += [text, "=" * len(text), ""]
        elif kind == "section":
            out += ["", text, "-" * len(text)]
        else:
            out.append(text)
    return "\n".join(out) + "\n"


def as_pdf(parts, images, author):
    """``parts`` (see ``lines``) with ``images`` ({field label: png bytes})
    after their line, as PDF bytes."""
    from reportlab.platypus import Image as PDFImage  # see the module's docstring
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = sample_styles()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=parts[0][1], author=author, leftMargin=20 * mm
    )
    story = []
    for kind, text in parts:
        style = {"heading": "Heading1", "section": "Heading2"}.get(kind, "BodyText")
        story.append(Paragraph(escape(text), styles[style]))
        label = text.split(": ", 1)[0]
        if kind == "line" and label in images:
            picture = PDFImage(BytesIO(images[label]))
            scale = min(1.0, IMAGE_WIDTH / picture.imageWidth)
            picture.drawWidth = picture.imageWidth * scale
            picture.drawHeight = picture.imageHeight * scale
            story += [picture, Spacer(1, 4 * mm)]
    document.build(story)
    return buffer.getvalue()
