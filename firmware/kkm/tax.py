# Tax groups are configuration: a register's table of groups (code, rate in
# thousandths of a percent, names) and whether the taxpayer pays VAT at all.
# VAT is included in the price; see docs/money-and-tax.md for the rounding rule.

from compat import const, is_int

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


def _valid_day(day):
    # yyyymmdd as an int, a plausible calendar date
    if not is_int(day):
        return False
    y, md = divmod(day, 10000)
    m, d = divmod(md, 100)
    return 2000 <= y <= 2199 and 1 <= m <= 12 and 1 <= d <= 31


class TaxGroup:
    # One tax group: code (small int, printed and stored), rate in thousandths
    # of a percent (16000 = 16 %), names for the receipt, exempt = "без НДС".
    # changes: rates set by law for later dates, [[yyyymmdd, percent_milli],
    # ...]: from that local date on the group has that rate (the medicines
    # group: 5 % in 2026, 10 % from 20270101), so a register in service on
    # the day of the change needs no re-programming.
    def __init__(self, code, percent_milli, name_kk, name_ru, exempt=False, changes=None):
        if not is_int(code) or not (0 <= code <= 255):
            raise ValueError(code)
        if not is_int(percent_milli) or not (0 <= percent_milli < MAX_PERCENT_MILLI):
            raise ValueError(percent_milli)
        if exempt and percent_milli:
            raise ValueError(percent_milli)
        steps = []
        for ch in changes or ():
            if len(ch) != 2 or not _valid_day(ch[0]) or not is_int(ch[1]) or not (0 <= ch[1] < MAX_PERCENT_MILLI):
                raise ValueError(ch)
            if exempt:
                raise ValueError(ch)
            steps.append((ch[0], ch[1]))
        steps.sort()
        self.code = code
        self.percent_milli = percent_milli
        self.name_kk = name_kk
        self.name_ru = name_ru
        self.exempt = exempt
        self.changes = steps

    def percent_on(self, day):
        # the rate in force on local date day (yyyymmdd); None: the base rate
        p = self.percent_milli
        if day is not None:
            for d, q in self.changes:
                if day >= d:
                    p = q
        return p

    def name(self, lang):
        return self.name_kk if lang == "kk" else self.name_ru


class TaxTable:
    # The register's tax groups on one local date (day, yyyymmdd; None: the
    # base rates). A non-VAT payer computes no VAT on any line (the groups
    # still name the goods' category on the receipt).
    def __init__(self, groups, vat_payer=True, day=None):
        self.groups = {}
        for g in groups:
            if g.code in self.groups:
                raise ValueError(g.code)
            self.groups[g.code] = g
        self.vat_payer = vat_payer
        self.day = day

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
        return g.percent_on(self.day)

    def vat(self, code, amount):
        return vat_in(amount, self.rate(code))


# Tax Code of 2026: standard VAT 16 %; reduced 5 % (10 % from 2027-01-01)
# for medicines; exempt goods. Group codes: 1 standard, 2 reduced, 3 exempt.
# [code, percent_milli, name_kk, name_ru, exempt, changes] as settings keep it
DEFAULT_GROUPS = (
    (1, 16000, "ҚҚС", "НДС", False, ()),
    (2, 5000, "ҚҚС", "НДС", False, ((20270101, 10000),)),
    (3, 0, "ҚҚС-сыз", "Без НДС", True, ()),
)


def table(groups, vat_payer=True, day=None):
    # a TaxTable from settings rows [code, percent, kk, ru, exempt(, changes)]
    return TaxTable([TaxGroup(g[0], g[1], g[2], g[3], g[4], g[5] if len(g) > 5 else None) for g in groups],
                    vat_payer, day)


def default_table(vat_payer=True, year=2026):
    # the default groups as in force on 1 January of `year`
    return table(DEFAULT_GROUPS, vat_payer, year * 10000 + 101)
