# Barcodes and marking codes (KZ-7, KZ-7.1): GS1 check digits of EAN-8,
# EAN-13, UPC-A and GTIN-14; GS1 element strings split into application
# identifiers; a marking code is AI 01 (checked GTIN) plus a serial, kept whole.
from kkm import gs1, ids

GS = "\x1d"
# alcohol (UZ-style 93 crypto tail) and shoes (91 key + 92 44-character crypto)
ALCOHOL = "0104870216760007" + "21qKkdi+S" + GS + "93U3g5"
SHOES = "0104870001000165" + "213ABCDEFGHIJKL" + GS + "91EE05" + GS + "92" + "x/+&%()<" * 5 + "abcd"


def test_kz_7_check_digits_of_every_gtin_length():
    for good in ("96385074", "036000291452", "4006381333931", "04870216760007", "4870001000011"):
        assert ids.check_gtin(good), good
    for bad in ("96385075", "036000291453", "4006381333932", "04870216760008", "487000100001", "48700010000111x"):
        assert not ids.check_gtin(bad), bad
    assert gs1.gtin14("036000291452") == "00036000291452"
    assert gs1.gtin14("96385074") == "00000096385074"
    assert gs1.gtin14("4006381333932") is None
    assert gs1.same_gtin("4870216760007", "04870216760007")
    assert not gs1.same_gtin("4870216760007", None)


def test_kz_7_gs1_fields_split_by_application_identifier():
    assert gs1.fields(ALCOHOL) == [("01", "04870216760007"), ("21", "qKkdi+S"), ("93", "U3g5")]
    f = gs1.fields(SHOES)
    assert [ai for ai, _ in f] == ["01", "21", "91", "92"]
    assert f[1][1] == "3ABCDEFGHIJKL" and f[2][1] == "EE05" and len(f[3][1]) == 44
    # fixed-length fields need no separator; 4-digit AIs (3103 weight, 8005 price)
    assert gs1.fields("010487021676000717261231" + "3103000750" + "8005000120") == [
        ("01", "04870216760007"), ("17", "261231"), ("3103", "000750"), ("8005", "000120")]
    assert gs1.fields("10LOT7" + GS + "0104870216760007") == [("10", "LOT7"), ("01", "04870216760007")]


def test_kz_7_cut_or_malformed_element_strings_are_not_gs1():
    for bad in ("01048702167600", "0104870216760007" + "21", "AB1234", "", "0104870" + GS + "2167600072112",
                "0104870216760007" + GS + GS + "x"):
        assert gs1.fields(bad) is None, bad


def test_kz_7_1_a_marking_code_is_a_checked_gtin_with_a_serial_kept_whole():
    assert gs1.mark_gtin(ALCOHOL) == "04870216760007"
    assert gs1.mark_gtin(SHOES) == "04870001000165"
    assert ids.check_mark(SHOES)  # byte-exact, crypto characters included
    assert gs1.mark_gtin("4870216760007") is None  # a plain EAN-13 is no marking code
    assert gs1.mark_gtin("0104870216760007") is None  # no serial
    assert gs1.mark_gtin("0104870216760008" + "21abc") is None  # wrong check digit
    assert gs1.mark_gtin("21abc" + GS + "0104870216760007") is None  # the GTIN must lead
    assert gs1.mark_gtin("0104870216760007" + "21a b") is None  # a space: no marking code
