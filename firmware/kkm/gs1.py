# GS1 element strings: the marking code of a DataMatrix split into its
# application identifiers (AI), the GTIN it carries, a GTIN in its 14-digit
# form. Loaded only when a scan is not a plain barcode.

from kkm.ids import check_gtin, check_mark, digits

# An element string: an application identifier (AI), then its data,
# fixed-length or running to the GS separator (the scanner's FNC1) or the
# end. A scanner sends neither the leading FNC1 nor the AIM prefix
# (drivers/scanner.py strips them).
GS = "\x1d"
# AIs of predefined length: the first two digits and the length of AI and
# data, 4 characters each ("0116": AI 01, 16 characters)
_FIXED = "0020011602160316041811081208130814081508160817081808190820043110321033103410351036104116"
AI_GTIN = "01"
AI_SERIAL = "21"


def _ai_len(two):
    # digits of an AI by its first two: 3 for 23x-25x and 40x-43x, 4 for
    # 31xx-36xx, 39xx, 70xx-72xx, 80xx-82xx, else 2
    if two in ("23", "24", "25", "40", "41", "42", "43"):
        return 3
    if two[0] == "3" and two not in ("30", "37") or two in ("70", "71", "72", "80", "81", "82"):
        return 4
    return 2


def _fixed_len(two):
    f = _FIXED
    for i in range(0, len(f), 4):
        if f[i:i + 2] == two:
            return int(f[i + 2:i + 4])
    return 0


def fields(code):
    # a GS1 element string -> [(ai, data), ...] in order, or None when it is
    # not one (an AI that is no number, a field cut short or empty)
    if not isinstance(code, str):
        return None
    out = []
    i = 0
    n = len(code)
    while i < n:
        if code[i] == GS:
            i += 1  # a separator after a fixed-length field is allowed
            continue
        two = code[i:i + 2]
        al = _ai_len(two) if len(two) == 2 else 2
        ai = code[i:i + al]
        if not digits(ai, al):
            return None
        total = _fixed_len(two)
        if total:
            end = i + total
            if end > n or GS in code[i + al:end]:
                return None
        else:
            end = code.find(GS, i + al)
            if end < 0:
                end = n
        if end == i + al:
            return None
        out.append((ai, code[i + al:end]))
        i = end
    return out or None


def gtin14(s):
    # a GTIN-8/12/13/14 as 14 digits (leading zeros), or None
    if not check_gtin(s):
        return None
    return "0" * (14 - len(s)) + s


def mark_gtin(code):
    # the GTIN-14 of a marking code: a GS1 element string that starts with
    # AI 01 (a GTIN with its check digit) and has a serial (AI 21); None
    # when the code is not a marking code. The code itself stays whole
    # (verification key 91, crypto 92/93) for the receipt and the OFD.
    if not check_mark(code):
        return None
    f = fields(code)
    if f is None or f[0][0] != AI_GTIN or not check_gtin(f[0][1]):
        return None
    for ai, data in f:
        if ai == AI_SERIAL:
            return f[0][1]
    return None


def same_gtin(a, b):
    # two GTINs of one good (GTIN-13 and its GTIN-14 form)
    return a is not None and b is not None and gtin14(a) is not None and gtin14(a) == gtin14(b)
