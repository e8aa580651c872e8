"""Downloading a client's answers (plugins/questionnaires) as PDF and as
plain text: the PDF, rendered to an image by poppler's pdftoppm and read
back by pdftotext, holds the answers, the same lines as the text export,
and the uploaded image; each download is an audited view; other staff
and organisations get 404."""

import io
import re
import subprocess

from consultroom_questionnaires.models import Status
from PIL import Image as PILImage
from questionnaires_support import (  # noqa: F401 (fixtures)
    build,
    clinic_fixture,
    kek_fixture,
    keys_by_label,
    questionnaire,
    responses,
    staff,
)
from sqlalchemy import select
from test_questionnaires_filling import book_with, fill_form, png

from consultroom.audit.models import AuditEntry


def _words(text):
    return re.sub(r"\s+", " ", text).strip()


def test_the_pdf_and_the_text_export_hold_the_same_answers(
    clinic, webtest, login, dbsession, tmp_path
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin)
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid)
    token = responses(dbsession)[0].token
    form = fill_form(webtest("quest").get(f"/q/{token}"))
    form[keys["Your GP"]] = "Dr. Bakker"
    form[keys["Complaints"]] = "Itching since Tuesday, <worse> & at night"
    form[keys["Allergies"]] = ["Pollen", "Nuts"]
    form[keys["Date of birth"]] = "1980-02-29"
    form[keys["Weight in kg"]] = "72.5"
    form[keys["Pregnant"]] = "no"
    form[keys["Country of birth"]] = "SE"
    form[keys["Photo of the rash"]] = ("rash.png", png((300, 200)))
    form.submit("action", value="finish", status=303)
    response = responses(dbsession)[0]
    assert response.status is Status.finished

    doctor = staff(webtest, login, clinic["doctor"])
    page = doctor.get(f"/questionnaires/answers/{response.id}")
    text = doctor.get(page.html.select_one("a[href$='.txt']")["href"])
    assert text.content_type == "text/plain"
    assert text.headers["Content-Disposition"].startswith("attachment;")
    body = text.text
    for line in (
        "Your GP: Dr. Bakker",
        "Complaints: Itching since Tuesday, <worse> & at night",
        "Allergies: Pollen, Nuts",
        "Date of birth: 1980-02-29",
        "Weight in kg: 72.5",
        "Pregnant: No",
        "Country of birth: Sweden",
        "Smoking: not answered",
        "Client: A. Jansen",
    ):
        assert line + "\n" in body, line

    pdf = doctor.get(page.html.select_one("a[href$='.pdf']")["href"])
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF-")
    path = tmp_path / "answers.pdf"
    path.write_bytes(pdf.body)
    read_back = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    # Every line of the text export is in the PDF, in the same order.
    pdf_words = _words(read_back)
    position = 0
    for line in body.splitlines():
        if not line.strip() or set(line) <= {"=", "-"}:
            continue
        found = pdf_words.find(_words(line), position)
        assert found >= 0, line
        position = found
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True)
    [rendered] = sorted(tmp_path.glob("page*.png"))
    with PILImage.open(rendered) as image:
        # The uploaded image (red) is drawn on the page.
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert any(r > 150 and g < 60 and b < 60 and n > 50 for n, (r, g, b) in colours)

    views = dbsession.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "questionnaires.view")
    ).all()
    assert [v["where"] for v in views] == ["page", "text", "pdf"]
    # The image itself, decrypted for staff only, is a view too.
    image = doctor.get(page.html.select_one("a[href*='/images/']")["href"])
    assert image.content_type == "image/png" and image.headers["Cache-Control"].startswith(
        "no-store"
    )
    with PILImage.open(io.BytesIO(image.body)) as decoded:
        assert decoded.size == (300, 200)
    webtest("quest").get(page.html.select_one("a[href*='/images/']")["href"], status=302)
    dbsession.expire_all()
    assert (
        dbsession.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "questionnaires.view")
        ).all()[-1]["where"]
        == "image"
    )


def test_downloads_are_for_staff_who_may_see_the_client(
    clinic, webtest, login, dbsession, make_organisation, make_user, enable_plugin
):
    from consultroom.accounts.models import Role

    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=[{"type": "short_text", "label": "Your GP"}])
    book_with(admin, clinic, qid)
    response = responses(dbsession)[0]
    clinic["org"].settings = {"strict_departments": True}
    dbsession.flush()
    therapist = staff(webtest, login, clinic["therapist"])
    for suffix in (".pdf", ".txt"):
        therapist.get(f"/questionnaires/answers/{response.id}{suffix}", status=404)
        webtest("quest").get(f"/questionnaires/answers/{response.id}{suffix}", status=302)
    other = make_organisation("other")
    enable_plugin(other, "questionnaires")
    app = staff(webtest, login, make_user(other, role=Role.org_admin), "other")
    app.get(f"/questionnaires/answers/{response.id}.pdf", status=404)
    assert not dbsession.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "questionnaires.view")
    )
