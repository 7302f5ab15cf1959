"""The service centre's signature on updates (KZ-43.1): LMS (RFC 8554) verified with SHA-256 only.

firmware/fleet/sign.py verifies; tools/fleet_sign.py makes keys and signs. The RFC's own
test vectors (two-level HSS: LMS H5/W8 and H10/W4) are checked level by level.
"""

import binascii

import lmskit as V
from fleet import sign as S
from fleetkit import key, public, run, signature
from tools import fleet_sign as FS


def _hss_levels(pub_hex, sig_hex):
    # an HSS key of two levels: (top key, signed key, its signature, the message's signature)
    pub = binascii.unhexlify(pub_hex)
    sig = binascii.unhexlify(sig_hex)
    assert pub[:4] == S.u32(2) and sig[:4] == S.u32(1)
    top = pub[4:]
    n = S.sig_size(int.from_bytes(top[:4], "big"), int.from_bytes(sig[8:12], "big"))
    low = sig[4 + n:4 + n + S.PUB_SIZE]
    return top, low, sig[4:4 + n], sig[4 + n + S.PUB_SIZE:]


def test_kz_43_1_rfc_8554_test_vectors_verify():
    for pub, msg, sig in ((V.PUB1, V.MSG1, V.SIG1), (V.PUB2, V.MSG2, V.SIG2)):
        top, low, sig_low, sig_msg = _hss_levels(pub, sig)
        assert S.verify(top, low, sig_low)
        assert S.verify(low, msg, sig_msg)
        assert not S.verify(low, msg + b"!", sig_msg)


def _flip(b, i):
    b = bytearray(b)
    b[i] ^= 1
    return bytes(b)


def test_kz_43_1_a_signature_verifies_and_one_flipped_bit_anywhere_fails():
    msg = b"\x11" * 32
    sig = signature(msg)
    pub = public()
    assert S.verify(pub, msg, sig) and run(S.verify_async(pub, msg, sig))
    for i in (0, 31):
        assert not S.verify(pub, _flip(msg, i), sig)
    # q, the randomiser C, a chain value, the LMS type, the path
    for i in (3, 10, 40, 200, len(sig) - 2000, len(sig) - 4 * 32 - 1, len(sig) - 1):
        assert not S.verify(pub, msg, _flip(sig, i)), i
    for i in (3, 7, 10, 30, 55):
        assert not S.verify(_flip(pub, i), msg, sig), i
    assert not S.verify(pub, msg, sig[:-1]) and not S.verify(pub, msg, b"") and not S.verify(pub[:-1], msg, sig)


def test_kz_43_1_another_key_does_not_verify_and_each_signature_uses_a_new_one_time_key():
    msg = b"\x22" * 32
    s1 = signature(msg)
    s2 = signature(msg)
    assert s1[:4] != s2[:4]  # q: the one-time key's number
    other = FS.Key(5, 3, b"another-key-id!!", b"\x01" * 32)
    assert not S.verify(other.public(), msg, s1)
    assert S.verify(other.public(), msg, other.sign(0, msg))
    assert key().public() != other.public()
    try:
        key().sign(32, msg)  # H5: one-time keys 0..31
        raise AssertionError("signed past the last one-time key")
    except ValueError as e:
        assert "used up" in str(e)
