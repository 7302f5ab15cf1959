# Shift counters in the shape of the OFD protocol's ZXReport (PROTOCOL §8).
# (API committed first; bodies follow.)

from compat import const

REPORT_Z = const(0)
REPORT_X = const(1)


class ShiftCounters:
    def __init__(self):
        raise NotImplementedError

    def add_receipt(self, receipt, offline, table):
        # count a fiscalised receipt
        raise NotImplementedError

    def add_placement(self, p, offline):
        # count a money placement
        raise NotImplementedError

    def zx_report(self, kind, shift_no, now_ts, open_ts, close_ts=None):
        # dict in the ZXReport shape; timestamps are local wall-clock seconds
        raise NotImplementedError

    def by_cashier(self):
        raise NotImplementedError

    def by_section(self):
        raise NotImplementedError

    def encode(self):
        raise NotImplementedError

    @staticmethod
    def decode(b):
        raise NotImplementedError

    def z_summary(self, shift_no, close_ts):
        # bytes <= 256 for the accumulator's Z area
        raise NotImplementedError

    def next_shift(self):
        # a new ShiftCounters carrying the never-reset totals and the cash forward
        raise NotImplementedError
