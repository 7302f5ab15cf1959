# Tax groups are configuration: a register's table of groups (code, rate in
# thousandths of a percent, names) and whether the taxpayer pays VAT at all.
# VAT is included in the price; see docs/money-and-tax.md for the rounding rule.

from compat import const

TAX_TYPE_VAT = const(100)  # TaxTypeEnum VAT in the OFD protocol
MAX_PERCENT_MILLI = const(100000)  # 100 %


def vat_in(amount, percent_milli):
    # VAT contained in a VAT-inclusive amount (tiyn):
    #   amount * p / (100000 + p), rounded half up to the tiyn (half away
    #   from zero for negative amounts). Applied per receipt line.
    if percent_milli <= 0:
        return 0
    neg = amount < 0
    if neg:
        amount = -amount
    den = MAX_PERCENT_MILLI + percent_milli
    v = (2 * amount * percent_milli + den) // (2 * den)
    return -v if neg else v


class TaxGroup:
    # One tax group: code (small int, printed and stored), rate in thousandths
    # of a percent (16000 = 16 %), names for the receipt, exempt = "без НДС".
    def __init__(self, code, percent_milli, name_kk, name_ru, exempt=False):
        if not (0 <= code <= 255):
            raise ValueError(code)
        if not (0 <= percent_milli < MAX_PERCENT_MILLI):
            raise ValueError(percent_milli)
        if exempt and percent_milli:
            raise ValueError(percent_milli)
        self.code = code
        self.percent_milli = percent_milli
        self.name_kk = name_kk
        self.name_ru = name_ru
        self.exempt = exempt

    def name(self, lang):
        return self.name_kk if lang == "kk" else self.name_ru


class TaxTable:
    # The register's tax groups. A non-VAT payer computes no VAT on any line
    # (the groups still name the goods' category on the receipt).
    def __init__(self, groups, vat_payer=True):
        self.groups = {}
        for g in groups:
            if g.code in self.groups:
                raise ValueError(g.code)
            self.groups[g.code] = g
        self.vat_payer = vat_payer

    def get(self, code):
        # the group with this code, or None
        return self.groups.get(code)

    def codes(self):
        return sorted(self.groups)

    def rate(self, code):
        # effective VAT rate (thousandths of a percent) of a group for this
        # taxpayer: 0 when exempt or when the taxpayer is not a VAT payer
        g = self.groups.get(code)
        if g is None:
            raise KeyError(code)
        if not self.vat_payer or g.exempt:
            return 0
        return g.percent_milli

    def vat(self, code, amount):
        return vat_in(amount, self.rate(code))


def default_table(vat_payer=True, year=2026):
    # Tax Code of 2026: standard VAT 16 %; reduced 5 % (10 % from 2027) for
    # medicines; exempt goods. Group codes: 1 standard, 2 reduced, 3 exempt.
    reduced = 5000 if year < 2027 else 10000
    return TaxTable(
        [
            TaxGroup(1, 16000, "ҚҚС", "НДС"),
            TaxGroup(2, reduced, "ҚҚС", "НДС"),
            TaxGroup(3, 0, "ҚҚС-сыз", "Без НДС", True),
        ],
        vat_payer,
    )
