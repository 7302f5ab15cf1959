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
