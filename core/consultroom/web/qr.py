"""QR codes drawn on the server, as inline SVG: what they encode (a 2FA
secret, a client's portal address) never goes to a QR-code service."""

from markupsafe import Markup


def qr_code_svg(text):
    """``text`` as an inline SVG QR code."""
    # Here, not at the top: qrcode's SVG writer (lxml) costs every process
    # ~30 ms at start, for the few pages that show a code.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    # qrcode writes only <svg> and <path> with numbers: no text of ours.
    svg = image.to_string(encoding="unicode")
    return Markup(svg)  # nosec B704
