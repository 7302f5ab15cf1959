# Receipt and report layout: ordered (style, text) lines for the printer.
# (API committed first; bodies follow.)

from compat import const

NORMAL = const(0)
BOLD = const(1)  # style bits, combine with |
DOUBLE = const(2)
CENTRE = const(4)
QR = const(8)  # the text is the QR payload


def qr_payload(check_url, fiscal_sign, rnm, total, ts):
    # "<protocol>://<url>?i=<sign>&f=<rnm>&s=<tenge.tiyn>&t=<YYYYMMDD>T<HHMMSS>"; ts local seconds
    raise NotImplementedError


def receipt_lines(receipt, info, lang, width=48):
    raise NotImplementedError


def report_lines(zx, lang, width=48):
    raise NotImplementedError
