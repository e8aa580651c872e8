"""The fonts of the PDFs drawn with reportlab: the portal letter, payment
receipts, questionnaire exports. DejaVu Sans, where the system has it
(Debian's fonts-dejavu-core), writes the letters of every European language
(a client called Łukasz, a clinic in Kraków); the PDF's built-in Helvetica,
the fallback, writes Latin-1 only and draws the other letters as boxes.

reportlab is imported when a PDF is drawn: about 60 ms that every process
would otherwise pay at its start."""

from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "ConsultroomSans", "ConsultroomSans-Bold"
# Each font's file in FONT_DIR, and the built-in font used without it.
_FILES = {
    REGULAR: ("DejaVuSans.ttf", "Helvetica"),
    BOLD: ("DejaVuSans-Bold.ttf", "Helvetica-Bold"),
}


def pdf_font(bold: bool = False) -> str:
    """The name of the font to give reportlab: DejaVu Sans (registered at
    its first use) or, where its file is missing, Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = BOLD if bold else REGULAR
    file, fallback = _FILES[name]
    path = FONT_DIR / file
    if not path.is_file():
        return fallback
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def sample_styles():
    """reportlab's sample style sheet, its Helvetica replaced by
    :func:`pdf_font` (bold where it was bold)."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics

    regular, bold = pdf_font(), pdf_font(bold=True)
    if regular == REGULAR and bold == BOLD:
        # So that a paragraph's <b> finds the bold face.
        pdfmetrics.registerFontFamily(
            regular, normal=regular, bold=bold, italic=regular, boldItalic=bold
        )
    sheet = getSampleStyleSheet()
    for style in sheet.byName.values():
        font = getattr(style, "fontName", "")
        if font.startswith("Helvetica"):
            style.fontName = bold if "Bold" in font else regular
    return sheet
