# KKM <-> OFD protocol 2.0.3: schema tables, codec, header and framing.
#
#   ofd.ProtocolError   the one error raised for malformed or invalid data
#   ofd.money(tiyn)     -> {"bills": .., "coins": ..}
#   ofd.tiyn(money)     -> int tiyn
#
# Submodules: ofd.schema (generated tables), ofd.codec (encode/decode),
# ofd.header (18-byte header), ofd.frame (read/write whole frames).


class ProtocolError(ValueError):
    # args[0] is a short English reason ("truncated", "bad varint", ...);
    # args[1], when present, names the field or value concerned.
    pass


def money(tiyn):
    # Integer tiyn -> Money dict (bills = whole tenge, coins = 0..99).
    if not isinstance(tiyn, int) or tiyn < 0:
        raise ProtocolError("bad money amount", tiyn)
    return {"bills": tiyn // 100, "coins": tiyn % 100}


def tiyn(m):
    # Money dict -> integer tiyn (coins >= 100 are carried into the total).
    bills = m.get("bills", 0)
    coins = m.get("coins", 0)
    if not isinstance(bills, int) or not isinstance(coins, int) or bills < 0 or coins < 0:
        raise ProtocolError("bad money amount", m)
    return bills * 100 + coins
