# VAT included in the price, rounded per line half up to the tiyn
# (docs/money-and-tax.md); tax groups are configuration (2026 Tax Code).
from kkm import tax
from kkm.tax import TaxGroup, TaxTable, vat_in


def test_vat_in_awkward_values_16_percent():
    assert vat_in(1, 16000) == 0  # 0.138 tiyn
    assert vat_in(4, 16000) == 1  # 0.552
    assert vat_in(5, 16000) == 1  # 16 % of 0.05 tenge: 0.69 tiyn -> 1
    assert vat_in(3, 16000) == 0  # 0.414
    assert vat_in(11600, 16000) == 1600  # exact
    assert vat_in(41111, 16000) == 5670  # 5670.48
    assert vat_in(99999999999999, 16000) == 13793103448276  # 13793103448275.72


def test_vat_in_reduced_rates_and_ties():
    assert vat_in(105, 5000) == 5
    assert vat_in(100, 5000) == 5  # 4.76
    assert vat_in(10, 5000) == 0  # 0.476
    assert vat_in(11, 5000) == 1  # 0.524
    assert vat_in(110, 10000) == 10  # 10 % from 2027
    assert vat_in(14, 12000) == 2  # 1.5 exactly: half up
    assert vat_in(14 * 3, 12000) == 5  # 4.5 -> 5
    assert vat_in(-14, 12000) == -2  # symmetric for negatives
    assert vat_in(1000, 0) == 0


def test_groups_are_configuration():
    t = tax.default_table()
    assert t.vat_payer
    assert t.rate(1) == 16000
    assert t.rate(2) == 5000
    assert t.rate(3) == 0
    assert t.get(3).exempt
    assert t.get(9) is None
    assert tax.default_table(year=2027).rate(2) == 10000
    custom = TaxTable([TaxGroup(7, 12000, "ҚҚС", "НДС")], True)
    assert custom.vat(7, 11200) == 1200
    assert custom.codes() == [7]


def test_non_vat_payer_has_no_vat():
    t = tax.default_table(vat_payer=False)
    assert t.rate(1) == 0
    assert t.vat(1, 11600) == 0
    assert t.vat(2, 10500) == 0


def test_bad_groups_rejected():
    for args in ((1, -1), (1, 100000), (300, 16000)):
        try:
            TaxGroup(args[0], args[1], "a", "b")
        except ValueError:
            pass
        else:
            raise AssertionError(args)
    try:
        TaxGroup(1, 16000, "a", "b", True)  # exempt with a rate
    except ValueError:
        pass
    else:
        raise AssertionError("exempt with rate")
    try:
        TaxTable([TaxGroup(1, 16000, "a", "b"), TaxGroup(1, 5000, "a", "b")])
    except ValueError:
        pass
    else:
        raise AssertionError("duplicate code")
    try:
        tax.default_table().rate(9)
    except KeyError:
        pass
    else:
        raise AssertionError("unknown group")


def test_medicines_rate_switches_by_date_2027():
    # a register in service on 2027-01-01 must move medicines from 5 % to
    # 10 % by itself: the group carries its dated rate, the table is taken
    # for the local date of the document
    g = TaxGroup(2, 5000, "ҚҚС", "НДС", False, [[20270101, 10000]])
    assert TaxTable([g], True, 20261231).rate(2) == 5000
    assert TaxTable([g], True, 20270101).rate(2) == 10000
    assert TaxTable([g], True, 20300615).rate(2) == 10000
    assert TaxTable([g], True).rate(2) == 5000  # no date: the base rate
    assert TaxTable([g], False, 20270101).rate(2) == 0  # non-VAT payer
    assert TaxTable([g], True, 20270101).vat(2, 11000) == 1000
    # several steps, given in any order
    h = TaxGroup(4, 12000, "a", "b", False, [[20300101, 14000], [20280101, 13000]])
    assert [TaxTable([h], True, d).rate(4) for d in (20271231, 20280101, 20291231, 20300101)] == \
        [12000, 13000, 13000, 14000]
    for bad in ([[20270101, 100000]], [[2027, 10000]], [[20270101]], [[20270101, 10000, 1]]):
        try:
            TaxGroup(2, 5000, "a", "b", False, bad)
        except (ValueError, TypeError):
            pass
        else:
            raise AssertionError(bad)
    try:
        TaxGroup(3, 0, "a", "b", True, [[20270101, 5000]])  # exempt never gets a rate
    except ValueError:
        pass
    else:
        raise AssertionError("exempt with a dated rate")
