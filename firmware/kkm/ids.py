# Checks of the identifiers a document carries: the buyer's IIN/BIN, GS1
# barcodes and NTIN of the National Catalogue, marking codes, contacts.

from compat import const

MAX_MARK_LEN = const(200)


def digits(s, n=None):
    # only ASCII digits, at least one (n of them when n is given)
    if not isinstance(s, str) or not s:
        return False
    if n is not None and len(s) != n:
        return False
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def check_iin_bin(s):
    # 12 digits; control digit 12 = sum(d[i] * (i+1), i=0..10) mod 11; when
    # that is 10, weights 3..11,1,2 are used instead; 10 again -> invalid.
    if not digits(s, 12):
        return False
    d = [ord(c) - 48 for c in s]
    k = 0
    for i in range(11):
        k += d[i] * (i + 1)
    k %= 11
    if k == 10:
        k = 0
        for i in range(11):
            k += d[i] * ((i + 2) % 11 + 1)
        k %= 11
        if k == 10:
            return False
    return k == d[11]


def check_gtin(s):
    # GS1 GTIN-8/12/13/14: weights 3,1,3,... from the right (check digit
    # excluded); check = (10 - sum mod 10) mod 10
    if not digits(s) or len(s) not in (8, 12, 13, 14):
        return False
    total = 0
    w = 3
    for i in range(len(s) - 2, -1, -1):
        total += (ord(s[i]) - 48) * w
        w = 4 - w
    return (10 - total % 10) % 10 == ord(s[-1]) - 48


def check_ntin(s):
    # NTIN from the National Catalogue: 13 digits with a GS1 check digit
    return digits(s, 13) and check_gtin(s)


def check_mark(s):
    # marking code / excise stamp: printable ASCII plus GS (0x1D) separators
    if not isinstance(s, str) or not (0 < len(s) <= MAX_MARK_LEN):
        return False
    for ch in s:
        o = ord(ch)
        if o != 0x1D and not (0x20 < o < 0x7F):
            return False
    return True


# GS1 element strings (the marking code of a DataMatrix): an application
# identifier (AI), then its data, fixed-length or running to the GS
# separator (the scanner's FNC1) or the end. A scanner sends neither the
# leading FNC1 nor the AIM prefix (drivers/scanner.py strips them).
GS = "\x1d"
# AIs of predefined length by their first two digits: AI + data length
_FIXED = ("00", 20, "01", 16, "02", 16, "03", 16, "04", 18, "11", 8, "12", 8, "13", 8, "14", 8, "15", 8,
          "16", 8, "17", 8, "18", 8, "19", 8, "20", 4, "31", 10, "32", 10, "33", 10, "34", 10, "35", 10,
          "36", 10, "41", 16)
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
    for i in range(0, len(f), 2):
        if f[i] == two:
            return f[i + 1]
    return 0


def gs1_fields(code):
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
    f = gs1_fields(code)
    if f is None or f[0][0] != AI_GTIN or not check_gtin(f[0][1]):
        return None
    for ai, data in f:
        if ai == AI_SERIAL:
            return f[0][1]
    return None


def same_gtin(a, b):
    # two GTINs of one good (GTIN-13 and its GTIN-14 form)
    return a is not None and b is not None and gtin14(a) is not None and gtin14(a) == gtin14(b)


def check_email(s):
    if not isinstance(s, str) or not (3 <= len(s) <= 64) or s.count("@") != 1:
        return False
    for ch in s:
        if not (0x20 < ord(ch) < 0x7F):
            return False
    user, dom = s.split("@")
    return bool(user) and "." in dom and not dom.startswith(".") and not dom.endswith(".")


def check_phone(s):
    # "+77011234567", "87011234567" or 10..15 digits with an optional "+"
    if not isinstance(s, str):
        return False
    body = s[1:] if s.startswith("+") else s
    return digits(body) and 10 <= len(body) <= 15
