# The National Catalogue of Goods (NKT) on the register (S000-1, S001-3,
# R-56(7), R-56(8)): a scanned GTIN or NTIN is looked up in a small cache
# (cached), else the sender asks the OFD by barcode (ofd.sender
# catalogue_item, COMMAND_NOMENCLATURE) and the element it gets is cached
# (learn); this module knows the cache and the rules, not the OFD. The
# catalogue's element gives the line its names (Russian title and Kazakh
# title_kk), its codes (GTIN or NTIN and the element id, the commodity's
# `code`), its unit of measure and whether the good is marked (a marking
# code must then be scanned, kkm.document Line.marking_required).
#
# The cache: at most MAX_ITEMS elements, each kept as its encoded bytes (no
# dict of objects on the heap), the most recently used first; the least
# recently used one goes when a new one comes. With the elements the
# catalogue's version they come from. It is a cache, not fiscal data (a
# receipt journals the names and codes it was sold with): it lives in a
# small file on the flash file system (FileStore), lost or damaged it is
# empty and refills from the OFD. Once a day (VERSION_EVERY, version_due;
# ofd.sender's idle step) the sender asks the OFD by version: an answer with
# a newer version refreshes (Catalog.refresh) the cached elements it lists and drops the others (they
# are asked for again by barcode at their next sale).
#
# The rule for lines without a catalogue element (setting "catalogue"):
# "strict" (the default) refuses a goods line that did not come from the
# catalogue, "soft" sells it and tells the cashier (N_NOT_IN_NKT). Services
# (unit 5114) and returns (which repeat the original's lines) are outside
# the rule.

from compat import const
from kkm import document as D
from kkm.compact import Writer, Reader
from kkm.ids import check_gtin, check_ntin
from kkm import layout
from kkm import locks as L
from kkm import texts

MAX_ITEMS = const(32)
VERSION_EVERY = const(86400)  # seconds between two version checks
STRICT = "strict"
SOFT = "soft"
RULES = (STRICT, SOFT)

_ELEMENT_ITEM = const(1)  # NomenclatureResponse.Element type ITEM (PROTOCOL.md section 10)

E_NOT_IN_NKT = const(170)  # strict: a goods line without a catalogue element
E_NKT_UNKNOWN = const(171)  # the OFD: no such code in the catalogue (result 18)
E_NKT_NO_ANSWER = const(172)  # not in the cache and no answer from the OFD
E_NKT_CODE = const(173)  # not a GTIN / NTIN
N_NOT_IN_NKT = const(174)  # soft: a line sold without a catalogue element

_TEXTS = (
    E_NOT_IN_NKT, "Тауар Ұлттық каталогтан алынбаған: штрихкодын сканерлеңіз",
        "Товар не из Национального каталога: отсканируйте штрихкод",
    E_NKT_UNKNOWN, "Тауар Ұлттық тауарлар каталогында табылмады", "Товар не найден в Национальном каталоге товаров",
    E_NKT_NO_ANSWER, "Тауар кэште жоқ, ФДО жауап бермеді: кейінірек қайталаңыз",
        "Товара нет в кэше, ОФД не ответил: повторите позже",
    E_NKT_CODE, "Штрихкод қате (GTIN/NTIN)", "Неверный штрихкод (GTIN/NTIN)",
    N_NOT_IN_NKT, "Тауар Ұлттық каталогтан тыс сатылды", "Товар продан без кода Национального каталога",
)
texts.add_table(_TEXTS, 3)


class Item:
    # one element of the catalogue: nkt = its id (the commodity's code);
    # gtin or ntin: its identification code; name (Russian), name_kk; unit:
    # measure_unit_code; marked: is_markedeac
    def __init__(self, nkt, gtin, ntin, name, name_kk, unit, marked):
        self.nkt = nkt
        self.gtin = gtin
        self.ntin = ntin
        self.name = name
        self.name_kk = name_kk
        self.unit = unit
        self.marked = marked

    def line(self, price, qty_milli, section=1, tax_code=1, marks=None):
        # a receipt line as the catalogue says it (kkm.document checks it:
        # a unit it does not know, a marked good without its codes)
        return D.Line(self.name, price, qty_milli, self.unit, section, tax_code, self.gtin, self.ntin, marks,
                      marking_required=self.marked, nkt=self.nkt, name_kk=self.name_kk)

    def encode(self, key):
        w = Writer()
        w.text(key)
        w.uint(self.nkt)
        w.opt(self.gtin)
        w.opt(self.ntin)
        w.text(self.name)
        w.opt(self.name_kk)
        w.text(self.unit)
        w.uint(1 if self.marked else 0)
        return w.done()

    @staticmethod
    def decode(b):
        r = Reader(b)
        r.text()  # the key
        it = Item(r.uint(), r.opt(), r.opt(), r.text(), r.opt(), r.text(), r.uint() == 1)
        r.end()
        return it


def _clip(s):
    # a catalogue title as a line name (kkm.document MAX_NAME characters,
    # printable: it goes on the paper); None when there is none
    if not isinstance(s, str) or not s.strip():
        return None
    return layout.printable(s[:D.MAX_NAME])


def item_of(el):
    # an Item from a decoded NomenclatureResponse.Element, or None: a group,
    # or an element without a usable name or code
    it = el.get("item")
    if el.get("type") != _ELEMENT_ITEM or it is None:
        return None
    gtin = it.get("barcode") or None
    ntin = it.get("ntin") or None
    if gtin is not None and not check_gtin(gtin):
        gtin = None
    if ntin is not None and not check_ntin(ntin):
        ntin = None
    name = _clip(el.get("title"))
    if (gtin is None and ntin is None) or name is None:
        return None
    return Item(el["id"], gtin, ntin, name, _clip(el.get("title_kk")), it.get("measure_unit_code") or D.UNIT_PIECE,
                bool(it.get("is_markedeac")))


def _key(rec):
    return Reader(rec).text()


class Catalog:
    # the bounded cache (see the header); store: load() -> bytes or None,
    # save(bytes) (FileStore), or None: RAM only
    def __init__(self, store=None, size=MAX_ITEMS):
        self.store = store
        self.size = size
        self.version = 0  # the catalogue version of the cached elements (0: none yet)
        self.recs = []
        self.checked = None  # register time of the last version check (RAM: once after boot)
        data = store.load() if store is not None else None
        if data:
            try:
                self._load(data)
            except (ValueError, IndexError, UnicodeError):
                self.version = 0  # damaged: an empty cache
                self.recs = []

    def _load(self, data):
        r = Reader(data)
        self.version = r.uint()
        recs = []
        for _ in range(r.count(self.size)):
            n = r.uint()
            if r.i + n > len(data):
                raise ValueError
            recs.append(bytes(data[r.i:r.i + n]))
            r.i += n
            Item.decode(recs[-1])
        r.end()
        self.recs = recs

    def encode(self):
        w = Writer()
        w.uint(self.version)
        w.uint(len(self.recs))
        for rec in self.recs:
            w.uint(len(rec))
            w.buf.extend(rec)
        return w.done()

    def _save(self):
        if self.store is not None:
            try:
                self.store.save(self.encode())
            except OSError:
                pass  # a cache: the next lookup asks the OFD again

    def get(self, code):
        recs = self.recs
        for i in range(len(recs)):
            if _key(recs[i]) == code:
                rec = recs.pop(i)
                recs.insert(0, rec)  # the most recently used first (in RAM)
                return Item.decode(rec)
        return None

    def put(self, code, item, version):
        recs = [r for r in self.recs if _key(r) != code]
        recs.insert(0, item.encode(code))
        del recs[self.size:]
        self.recs = recs
        if version:
            self.version = version
        self._save()

    def refresh(self, version, elements):
        # a version answer: the cached elements it lists are replaced, the
        # others dropped (asked for again at their next sale)
        fresh = []
        for el in elements:
            it = item_of(el)
            if it is None:
                continue
            for rec in self.recs:
                k = _key(rec)
                if k == it.gtin or k == it.ntin:
                    fresh.append(it.encode(k))
        self.recs = fresh[:self.size]
        self.version = version
        self._save()


class FileStore:
    # the cache in a file of the flash file system, replaced whole (written
    # to path + ".tmp", then renamed: a power cut leaves the old or the new)
    def __init__(self, path):
        self.path = path

    def load(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def save(self, data):
        import os

        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, self.path)


def _cache(reg):
    if reg.catalog is None:
        reg.catalog = Catalog()
    return reg.catalog


def cached(reg, code):
    # the Item of a scanned GTIN/NTIN from the cache, or None: not cached
    # (ofd.sender asks the OFD); Refused E_NKT_CODE: not a GTIN/NTIN
    if not check_gtin(code):
        raise L.Refused(E_NKT_CODE, code)
    return _cache(reg).get(code)


def learn(reg, code, version, elements):
    # the OFD's elements for a code asked by barcode -> its Item (now
    # cached, with the catalogue's version), or None: none is usable
    for el in elements:
        it = item_of(el)
        if it is not None and (it.gtin == code or it.ntin == code):
            _cache(reg).put(code, it, version)
            return it
    return None


def version_due(reg, now):
    c = reg.catalog
    return c is not None and c.version > 0 and (c.checked is None or not 0 <= now - c.checked < VERSION_EVERY)


def coded(line):
    # did the line come from the catalogue? (services are outside the rule)
    return line.nkt is not None or line.unit_code == D.UNIT_SERVICE


def check_line(line, op, rule, i=None):
    # the setting's rule for one line of a receipt of operation op
    if rule == STRICT and not D.is_return(op) and not coded(line):
        raise D.DocumentError(E_NOT_IN_NKT, i)


def check_receipt(receipt, rule):
    for i in range(len(receipt.lines)):
        check_line(receipt.lines[i], receipt.op, rule, i)
