"""consultroom.web.pdf_fonts: the PDFs' fonts write more than Latin-1 where
DejaVu Sans is installed, in regular and bold, and fall back to the built-in
Helvetica where it is not."""

import subprocess
from io import BytesIO

import pytest
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

from consultroom.web import pdf_fonts

NAMES = "Łukasz Wiśniewski, Şükrü Çelik, Ελένη, Kraków"

pytestmark = pytest.mark.sqlite_only  # no database


def _text(pdf, tmp_path):
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())  # a heading may wrap


def test_drawn_text_keeps_letters_beyond_latin_1_in_regular_and_bold(tmp_path):
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    for y, bold in ((700, False), (680, True)):
        pdf.setFont(pdf_fonts.pdf_font(bold), 11)
        pdf.drawString(50, y, NAMES)
    pdf.save()
    assert _text(buffer.getvalue(), tmp_path).count(NAMES) == 2


def test_the_sample_styles_write_them_too_bold_where_bold(tmp_path):
    styles = pdf_fonts.sample_styles()
    assert styles["Normal"].fontName == pdf_fonts.REGULAR
    assert styles["Heading1"].fontName == pdf_fonts.BOLD
    buffer = BytesIO()
    SimpleDocTemplate(buffer).build(
        [Paragraph(NAMES, styles["Heading1"]), Paragraph(f"<b>{NAMES}</b>", styles["Normal"])]
    )
    assert _text(buffer.getvalue(), tmp_path).count(NAMES) == 2


def test_without_dejavu_the_built_in_helvetica_is_used(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf_fonts, "FONT_DIR", tmp_path)
    assert (pdf_fonts.pdf_font(), pdf_fonts.pdf_font(bold=True)) == ("Helvetica", "Helvetica-Bold")
    assert pdf_fonts.sample_styles()["Heading1"].fontName == "Helvetica-Bold"
