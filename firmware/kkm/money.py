# Money is integer tiyn (1 tenge = 100 tiyn) everywhere in the core.
# No floats: values are split and formatted with divmod.


def split(tiyn):
    # tiyn -> (bills, coins) as the protocol's Money {bills, coins}; tiyn >= 0
    if tiyn < 0:
        raise ValueError(tiyn)
    return divmod(tiyn, 100)


def join(bills, coins):
    # (bills, coins) -> tiyn; coins >= 100 are carried into bills
    if bills < 0 or coins < 0:
        raise ValueError(bills, coins)
    return bills * 100 + coins


def _groups(n):
    s = str(n)
    out = []
    while len(s) > 3:
        out.append(s[-3:])
        s = s[:-3]
    out.append(s)
    out.reverse()
    return " ".join(out)


def fmt(tiyn, groups=True):
    # tiyn -> "1 234.56": groups of three digits split by a space, dot before
    # tiyn; groups=False: "1234.56"
    sign = ""
    if tiyn < 0:
        sign = "-"
        tiyn = -tiyn
    b, c = divmod(tiyn, 100)
    return "%s%s.%02d" % (sign, _groups(b) if groups else str(b), c)


def dotted(tiyn):
    # tiyn -> "696.90": no group separators (the QR payload's s= field)
    return fmt(tiyn, False)


_DIGITS = "0123456789"


def _digits_only(s):
    if not s:
        return False
    for ch in s:
        if ch not in _DIGITS:
            return False
    return True


def parse(text):
    # "1 234.56", "1234,5", "12" -> tiyn; ValueError on anything else
    # (no sign, at most two decimals, spaces only as group separators)
    if not isinstance(text, str):
        raise ValueError(text)
    s = text.strip().replace(" ", "").replace(",", ".")
    if not s:
        raise ValueError(text)
    if "." in s:
        whole, frac = s.split(".", 1)
        if not _digits_only(whole) or not _digits_only(frac) or len(frac) > 2:
            raise ValueError(text)
        if len(frac) == 1:
            frac = frac + "0"
    else:
        whole, frac = s, "00"
        if not _digits_only(whole):
            raise ValueError(text)
    if len(whole) > 15:
        raise ValueError(text)
    return int(whole) * 100 + int(frac)


def line_sum(price, qty_milli):
    # price (tiyn per unit) x quantity (thousandths) -> tiyn, half up to the tiyn
    if price < 0 or qty_milli < 0:
        raise ValueError(price, qty_milli)
    return (price * qty_milli + 500) // 1000


def qty_text(qty_milli, measured):
    # quantity for print: "3" for pieces, "0.333" for measured goods
    w, f = divmod(qty_milli, 1000)
    if not measured and f == 0:
        return str(w)
    return "%d.%03d" % (w, f)


def percent_text(percent_milli):
    # 16000 -> "16", 12500 -> "12.5", 5250 -> "5.25"
    w, f = divmod(percent_milli, 1000)
    if f == 0:
        return str(w)
    s = "%03d" % f
    while s.endswith("0"):
        s = s[:-1]
    return "%d.%s" % (w, s)
