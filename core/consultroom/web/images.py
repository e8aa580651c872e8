"""Checked image uploads: a size cap, a real decode with Pillow (the file
name and declared type are not trusted), and scaling to fit a box."""

import io
import warnings

from PIL import Image, UnidentifiedImageError

from consultroom.i18n import _

ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs early


class ImageRejected(ValueError):
    """Carries a translation string explaining why."""


def read_upload(upload, max_bytes):
    """The bytes of a form upload, or ``None`` when no file was chosen."""
    if upload is None or not hasattr(upload, "file"):
        return None
    data = upload.file.read(max_bytes + 1)
    if not data:
        return None
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The file is larger than ${size} KB.", mapping={"size": max_bytes // 1024})
        )
    return data


def fit_image(data, box):
    """Decode ``data``, shrink it to fit ``box`` (width, height) and return PNG bytes."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _fit(data, box)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
    ):
        raise ImageRejected(_("This file is not an image we can read.")) from None


def _fit(data, box):
    with Image.open(io.BytesIO(data)) as image:
        if image.format not in ACCEPTED_FORMATS:
            raise ImageRejected(_("Upload a PNG, JPEG, GIF or WebP image."))
        image.load()
        image.thumbnail(box)
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="PNG")
    return out.getvalue()
