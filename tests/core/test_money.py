# Money as integer tiyn: formatting, parsing, Money {bills, coins}, line sums.
from kkm import money


def test_fmt_groups_and_dot():
    assert money.fmt(0) == "0.00"
    assert money.fmt(1) == "0.01"
    assert money.fmt(5) == "0.05"
    assert money.fmt(69690) == "696.90"
    assert money.fmt(123456) == "1 234.56"
    assert money.fmt(100000000) == "1 000 000.00"
    assert money.fmt(-123456) == "-1 234.56"
    assert money.fmt(99999999999999) == "999 999 999 999.99"


def test_dotted_for_qr_has_no_groups():
    assert money.dotted(5) == "0.05"
    assert money.dotted(69690) == "696.90"
    assert money.dotted(123456789012) == "1234567890.12"


def test_split_join_protocol_money():
    assert money.split(0) == (0, 0)
    assert money.split(69690) == (696, 90)
    assert money.split(5) == (0, 5)
    assert money.join(696, 90) == 69690
    assert money.join(1, 150) == 250  # coins >= 100 are carried
    for bad in (-1,):
        try:
            money.split(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("negative split accepted")


def test_parse_accepts_usual_forms():
    assert money.parse("0.05") == 5
    assert money.parse("696.9") == 69690
    assert money.parse("696,90") == 69690
    assert money.parse(" 1 234.56 ") == 123456
    assert money.parse("12") == 1200
    assert money.parse("0") == 0


def test_parse_rejects_bad_input():
    for bad in ("", " ", "1.234", "-5", "+5", "1e3", "12a", "1..2", ".", "1.2.3", "0x10", "12.-1",
                "1234567890123456", None, 12):
        try:
            money.parse(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("accepted %r" % (bad,))


def test_line_sum_rounds_half_up_to_the_tiyn():
    assert money.line_sum(123456, 333) == 41111  # 0.333 kg x 1 234.56 = 411.10848
    assert money.line_sum(100, 1000) == 100
    assert money.line_sum(1, 500) == 1  # 0.5 tiyn -> 1 (half up)
    assert money.line_sum(1, 499) == 0
    assert money.line_sum(999, 2500) == 2498  # 2497.5 -> 2498
    assert money.line_sum(0, 1000) == 0


def test_quantity_and_percent_text():
    assert money.qty_text(3000, False) == "3"
    assert money.qty_text(333, True) == "0.333"
    assert money.qty_text(2000, True) == "2.000"
    assert money.percent_text(16000) == "16"
    assert money.percent_text(12500) == "12.5"
    assert money.percent_text(5250) == "5.25"
    assert money.percent_text(0) == "0"
