# The accumulator: the ring of records, the Z area, the space rules and the
# self-test on one pair of devices under one key. Each concept lives in its
# own module; the classes share this object's state.

from compat import Hmac
from journal.ring import Ring, JournalError
from journal.zarea import ZArea
from journal.space import Space
from journal.selftest import SelfTest


class Accumulator(Ring, ZArea, Space, SelfTest):
    def __init__(self, log_dev, fm_dev, key, retention_s=30 * 86400, reserve=None, doc_reserve=None):
        if not key:
            raise JournalError("key")
        self._init_space(reserve, doc_reserve)
        self._m = Hmac(key)
        self.genesis = self._m.mac(b"KZ fiscal journal genesis")
        self._init_ring(log_dev, retention_s)
        self._init_z(fm_dev)
        self.recovery = {}
        self._open()
