# Verification of the service centre's signature on an update (KZ-43.1):
# LMS, the Leighton-Micali hash-based signature of RFC 8554, with SHA-256
# only (the device has hashlib, backed by the ESP32's SHA accelerator, and
# no public-key primitive in its C core). docs/updates.md says why.
#
#   verify(pub, msg, sig) -> True when sig is the signature of msg by the
#       key whose public key is pub (56 bytes: LMS type, LM-OTS type, I, T[1])
#   await verify_async(pub, msg, sig)   the same, giving the loop a turn
#       after each Winternitz chain (a few hundred microseconds each)
#
# The signer (tools/fleet_sign.py) builds keys and signatures from the
# same chain(), coef() and checksum().

import hashlib

from compat import const

N = const(32)  # SHA-256: n = m = 32 bytes
D_PBLC = b"\x80\x80"
D_MESG = b"\x81\x81"
D_LEAF = b"\x82\x82"
D_INTR = b"\x83\x83"

# LM-OTS typecode -> (w, p, ls): LMOTS_SHA256_N32_W1 .. _W8 (RFC 8554 4.1)
OTS = {1: (1, 265, 7), 2: (2, 133, 6), 3: (4, 67, 4), 4: (8, 34, 0)}
# LMS typecode -> h: LMS_SHA256_M32_H5 .. _H25 (RFC 8554 5.1)
LMS = {5: 5, 6: 10, 7: 15, 8: 20, 9: 25}
PUB_SIZE = const(56)


def u32(v):
    return v.to_bytes(4, "big")


def coef(s, i, w):
    # the i-th w-bit digit of s, most significant first
    return ((1 << w) - 1) & (s[i * w // 8] >> (8 - (w * (i % (8 // w)) + w)))


def checksum(q, w, ls):
    total = 0
    top = (1 << w) - 1
    for i in range(N * 8 // w):
        total += top - coef(q, i, w)
    return (total << ls).to_bytes(2, "big")


def chain(iq, i, tmp, start, stop):
    # steps start..stop-1 of the Winternitz chain of digit i (iq = I || u32(q))
    buf = bytearray(iq + i.to_bytes(2, "big") + b"\0" + tmp)
    for j in range(start, stop):
        buf[22] = j
        buf[23:] = hashlib.sha256(buf).digest()
    return bytes(buf[23:])


def digits(iq, c, msg, w, ls):
    # Q || Cksm(Q): the message's digits
    h = hashlib.sha256(iq + D_MESG + c)
    h.update(msg)
    q = h.digest()
    return q + checksum(q, w, ls)


def ots_size(otype):
    return 4 + N + N * OTS[otype][1]


def sig_size(ltype, otype):
    return 4 + ots_size(otype) + 4 + N * LMS[ltype]


def leaf(ident, node, k):
    return hashlib.sha256(ident + u32(node) + D_LEAF + k).digest()


def parent(ident, node, left, right):
    return hashlib.sha256(ident + u32(node) + D_INTR + left + right).digest()


def _check(pub, msg, sig, out):
    # RFC 8554 algorithm 6a with 4b; yields after each chain, out gets the answer
    if len(pub) != PUB_SIZE or len(sig) < 8:
        out.append(False)
        return
    ltype = int.from_bytes(pub[:4], "big")
    otype = int.from_bytes(pub[4:8], "big")
    if ltype not in LMS or otype not in OTS or len(sig) != sig_size(ltype, otype):
        out.append(False)
        return
    h = LMS[ltype]
    w, p, ls = OTS[otype]
    q = int.from_bytes(sig[:4], "big")
    end = 4 + ots_size(otype)
    if (q >> h or int.from_bytes(sig[4:8], "big") != otype
            or int.from_bytes(sig[end:end + 4], "big") != ltype):
        out.append(False)
        return
    ident = pub[8:24]
    iq = ident + sig[:4]
    s = digits(iq, sig[8:8 + N], msg, w, ls)
    k = hashlib.sha256(iq + D_PBLC)
    top = (1 << w) - 1
    y = 8 + N
    for i in range(p):
        k.update(chain(iq, i, sig[y:y + N], coef(s, i, w), top))
        y += N
        yield
    node = (1 << h) + q
    tmp = leaf(ident, node, k.digest())
    path = end + 4
    while node > 1:
        sib = sig[path:path + N]
        tmp = parent(ident, node >> 1, sib, tmp) if node & 1 else parent(ident, node >> 1, tmp, sib)
        node >>= 1
        path += N
    out.append(tmp == pub[24:])


def verify(pub, msg, sig):
    out = []
    for _ in _check(pub, msg, sig, out):
        pass
    return out[0]


async def verify_async(pub, msg, sig):
    import asyncio

    out = []
    for _ in _check(pub, msg, sig, out):
        await asyncio.sleep(0)
    return out[0]
