"""The portal letter: one printable A4 page, in the client's language, with
the portal's address written out and as a QR code that a phone's camera
opens. Drawn with reportlab (its own QR widget: no image files)."""

from html import escape
from io import BytesIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from consultroom.clients.contact import language_of
from consultroom.i18n import _, localizer_for
from consultroom.web.pdf_fonts import sample_styles

QR_SIZE = 50 * mm


class _QrCode(Flowable):
    def __init__(self, text):
        super().__init__()
        self.text = text
        self.width = self.height = QR_SIZE

    def draw(self):
        widget = QrCodeWidget(self.text)
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(
            QR_SIZE,
            QR_SIZE,
            transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
        )
        drawing.add(widget)
        renderPDF.draw(drawing, self.canv, 0, 0)


def _texts(localizer, organisation):
    org = {"organisation": organisation.name}
    t = localizer.translate
    return {
        "title": t(_("Your personal page with ${organisation}", mapping=org)),
        "intro": t(
            _(
                "On your personal page you see your video consultations with ${organisation}"
                " and go to the waiting room when it is time.",
                mapping=org,
            )
        ),
        "scan": t(_("Scan this code with your phone's camera, or type this address:")),
        "pin": t(
            _(
                "To open the page you ask for a PIN there, which we send to your e-mail"
                " address. Keep this letter to yourself: the address is personal."
            )
        ),
    }


def letter_pdf(request, client, url):
    """The letter for ``client`` pointing at ``url``, as PDF bytes."""
    organisation = request.organisation
    localizer = localizer_for(request.registry, language_of(client, organisation))
    texts = _texts(localizer, organisation)
    styles = sample_styles()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=texts["title"],
        author=organisation.name,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
    )
    story = [
        Paragraph(escape(organisation.name), styles["Heading2"]),
        Spacer(1, 10 * mm),
        Paragraph(escape(client.display_name), styles["Normal"]),
        Spacer(1, 10 * mm),
        Paragraph(escape(texts["title"]), styles["Heading1"]),
        Paragraph(escape(texts["intro"]), styles["Normal"]),
        Spacer(1, 5 * mm),
        Paragraph(escape(texts["scan"]), styles["Normal"]),
        Spacer(1, 3 * mm),
        Paragraph(f"<font face='Courier'>{escape(url)}</font>", styles["Normal"]),
        Spacer(1, 8 * mm),
        _QrCode(url),
        Spacer(1, 8 * mm),
        Paragraph(escape(texts["pin"]), styles["Normal"]),
    ]
    document.build(story)
    return buffer.getvalue()
