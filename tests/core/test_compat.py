# Core tests for the portability shims (run on CPython and MicroPython).
import compat


def test_civil_round_trip_and_known_dates():
    assert compat.civil_from_unix(0) == (1970, 1, 1, 0, 0, 0)
    # 2026-01-01 00:00:00 UTC, the day Order No. 626 came into force
    assert compat.unix_from_civil(2026, 1, 1) == 1767225600
    assert compat.civil_from_unix(1767225600 + 86399) == (2026, 1, 1, 23, 59, 59)
    # leap day and century rules
    assert compat.civil_from_unix(compat.unix_from_civil(2028, 2, 29, 12, 0, 1)) == (2028, 2, 29, 12, 0, 1)
    assert compat.civil_from_unix(compat.unix_from_civil(2100, 3, 1)) == (2100, 3, 1, 0, 0, 0)
    for ts in range(1700000000, 1900000000, 98765431):
        assert compat.unix_from_civil(*compat.civil_from_unix(ts)) == ts


def test_hmac_sha256_matches_rfc4231_case_2():
    mac = compat.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_hmac_long_key_is_hashed_first():
    key = b"\xaa" * 131
    mac = compat.hmac_sha256(key, b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert mac.hex() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_hmac_parts_are_the_message_joined():
    # the journal MACs a record as parts (chain value, then the record)
    key = b"k" * 100
    assert compat.Hmac(key).mac(b"abc", b"def") == compat.hmac_sha256(key, b"abcdef")
    try:
        import hmac
        import hashlib
    except ImportError:
        return  # the MicroPython unix port has no hmac module
    assert compat.Hmac(key).mac(b"ab", b"c") == hmac.new(key, b"abc", hashlib.sha256).digest()


def test_pad_counts_characters_not_bytes():
    assert compat.pad("дд", 6) == "дд    "
    assert compat.pad("қ", 3, ">") == "  қ"
    assert compat.pad("ab", 6, "^") == "  ab  "
    assert compat.pad("toolong", 3) == "toolong"


def test_signed_from_bytes():
    assert compat.from_bytes_signed(b"\xff\xff", "big") == -1
    assert compat.from_bytes_signed(b"\x7f\xff", "big") == 32767
    assert compat.from_bytes_signed(b"\x00\x80", "little") == -32768


def test_crc32_is_unsigned():
    assert compat.crc32(b"123456789") == 0xCBF43926


def test_crc32_text_is_the_crc_of_the_utf8_bytes():
    for s in ("", "123456789", "Ауысым №", "қазақ тілі"):
        assert compat.crc32_text(s) == compat.crc32(s.encode())
        assert compat.crc32_text(s, 0xCBF43926) == compat.crc32(s.encode(), 0xCBF43926)
    # chained pieces give the CRC of the whole text
    assert compat.crc32_text("Ауысым", compat.crc32_text("X-")) == compat.crc32("X-Ауысым".encode())
    assert compat.crc32_text("123456789") == 0xCBF43926
