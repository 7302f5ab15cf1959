# Benchmark: encode/decode cost of a 10-line ticket request.
#
#   python tools/bench_ofd_codec.py     (CPython: firmware codec + Google protobuf,
#                                        then the same file under MicroPython)
#   micropython tools/bench_ofd_codec.py   (firmware codec on MicroPython only)
#
# Prints microseconds per operation (best of 7 rounds) and ratios against
# Google protobuf (upb backend) on CPython.

import sys
import time

_root = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."
sys.path.insert(0, _root + "/firmware")

from ofd import codec, money, schema  # noqa: E402

MPY = sys.implementation.name == "micropython"


def now_us():
    if MPY:
        return time.ticks_us()
    return time.perf_counter_ns() // 1000


def elapsed_us(t0):
    if MPY:
        return time.ticks_diff(time.ticks_us(), t0)
    return now_us() - t0


def ticket10():
    items = []
    for i in range(10):
        price = 1000 + 137 * i
        qty = 1000 + 500 * (i % 3)
        line = price * qty // 1000
        items.append({"type": schema.ITEM_TYPE_COMMODITY, "commodity": {
            "code": 4870000000000 + i, "name": "Тауар / Товар %d" % (i + 1), "section_code": "1",
            "quantity": qty, "price": money(price), "sum": money(line),
            "taxes": [{"tax_type": 100, "taxation_type": 101, "percent": 12000,
                       "sum": money(line * 12 // 112), "is_in_total_sum": True}],
            "barcode": "487000000%04d" % i, "measure_unit_code": "796"}})
    total = 0
    for it in items:
        total += it["commodity"]["sum"]["bills"] * 100 + it["commodity"]["sum"]["coins"]
    dt = {"date": {"year": 2026, "month": 3, "day": 14}, "time": {"hour": 12, "minute": 30, "second": 5}}
    return {
        "command": schema.COMMAND_TICKET,
        "ticket": {
            "operation": schema.OPERATION_SELL, "date_time": dt,
            "operator": {"code": 1, "name": "Кассир"},
            "domain": {"type": schema.DOMAIN_TRADING},
            "items": items,
            "payments": [{"type": schema.PAYMENT_CASH, "sum": money(total)}],
            "amounts": {"total": money(total), "taken": money(total), "change": money(0)},
            "fr_shift_number": 12, "shift_document_number": 40,
        },
        "service": {"reg_info": {"kkm": {"fns_kkm_id": "010101234567", "serial_number": "SN0001",
                                         "kkm_id": "203539"}}},
    }


def measure(fn, arg, n, rounds=7):
    # Best of several rounds: the machine may be busy with other work.
    fn(arg)
    best = None
    for _ in range(rounds):
        t0 = now_us()
        for _ in range(n):
            fn(arg)
        t = elapsed_us(t0) / n
        if best is None or t < best:
            best = t
    return best


def firmware_figures(n):
    msg = ticket10()
    data = codec.encode(schema.Request, msg)
    enc = measure(lambda m: codec.encode(schema.Request, m), msg, n)
    dec = measure(lambda d: codec.decode(schema.Request, d), data, n)
    return len(data), enc, dec


def main():
    if MPY:
        import gc

        size, enc, dec = firmware_figures(60)
        data = codec.encode(schema.Request, ticket10())
        gc.collect()
        gc.disable()
        a0 = gc.mem_alloc()
        codec.decode(schema.Request, data)
        heap = gc.mem_alloc() - a0
        gc.enable()
        print("RESULT %d %.1f %.1f %d" % (size, enc, dec, heap))
        return
    import os
    import shutil
    import subprocess

    sys.path.insert(0, os.path.abspath(_root))
    from tools.pb import load

    pb = load()
    size, enc, dec = firmware_figures(300)
    data = codec.encode(schema.Request, ticket10())
    g = pb.Request.FromString(data)
    assert g.SerializeToString() == data
    genc = measure(lambda m: m.SerializeToString(), g, 5000)
    gdec = measure(lambda d: pb.Request.FromString(d), data, 5000)

    rows = [("Google protobuf (upb), CPython", genc, gdec),
            ("firmware codec, CPython", enc, dec)]
    mp = shutil.which("micropython", path=os.path.join(os.path.abspath(_root), ".venv", "bin")
                      + os.pathsep + os.environ.get("PATH", ""))
    if mp:
        out = subprocess.run([mp, __file__], capture_output=True, text=True, timeout=300).stdout
        line = [x for x in out.splitlines() if x.startswith("RESULT ")][0].split()
        rows.append(("firmware codec, MicroPython unix", float(line[2]), float(line[3])))
        heap = int(line[4])
    else:
        heap = None
    print("10-line ticket Request: %d bytes" % size)
    print("%-34s %12s %12s %10s %10s" % ("codec", "encode us", "decode us", "enc x", "dec x"))
    for name, e, d in rows:
        print("%-34s %12.1f %12.1f %10.1f %10.1f" % (name, e, d, e / genc, d / gdec))
    if heap is not None:
        print("MicroPython heap allocated by one decode (result + garbage): %d bytes" % heap)


if __name__ == "__main__":
    main()
