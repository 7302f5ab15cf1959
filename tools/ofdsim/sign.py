"""Fiscal sign (R-80) and the receipt's QR payload (KZ-34, KZ-35).

The fiscal sign of an online receipt is a 10-digit number computed on the
server with HMAC-SHA256 from the server secret and the settlement data the
KKM sent: the register id, the ticket's sequence number at this register and
the exact Request payload bytes (tickets.request). Anyone holding the secret and the stored data
can recompute it (see fiscal_sign()); two receipts differ in at least the
sequence number, so their signs differ (a collision inside one register is
resolved by the next `salt`, which the store keeps implicitly: the first
free value wins, deterministically).
"""

import hashlib
import hmac
import struct
from urllib.parse import quote

from tools.ofdsim.pbutil import money_text, qr_time


def fiscal_sign(secret, kkm_id, seq, request_bytes, salt=0):
    msg = struct.pack("<IIH", kkm_id, seq, salt) + bytes(request_bytes)
    digest = hmac.new(secret, msg, hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big") % 9000000000
    return str(1000000000 + n)


def qr_payload(base_url, sign, rnm, total_tiyn, dt):
    """`<base>/check?i=<sign>&f=<RNM>&s=<tenge.tiyn>&t=<YYYYMMDD>T<HHMMSS>`."""
    return "%s/check?i=%s&f=%s&s=%s&t=%s" % (base_url.rstrip("/"), sign, quote(str(rnm), safe=""),
                                           money_text(total_tiyn), qr_time(dt))
