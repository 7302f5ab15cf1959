# Protocol 2.0.3 request dicts built from the register's documents
# (PROTOCOL.md sections 4, 7, 8, 9). Every function returns plain dicts keyed
# by the field names of ofd203.proto, ready for ofd.codec.encode("Request").
#
#   date_time(local_ts)                      -> DateTime
#   operator(code, name=None)                -> Operator
#   ticket(receipt, table, local_ts, shift_no, doc_no, offline_number=None,
#          operator_name=None, utc_offset=0) -> TicketRequest
#   money_placement(placement, local_ts, shift_no, doc_no, offline=False,
#                   operator_name=None)      -> MoneyPlacementRequest
#   close_shift(zx, local_ts, shift_no, operator_code, offline=False,
#               operator_name=None)          -> CloseShiftRequest
#   report(kind, zx, local_ts, offline=False) -> ReportRequest
#   reg_info(rnm, factory_no, kkm_id, title, address, bin_) -> ServiceRequest.reg_info
#   software(version, ...)                   -> ServiceRequest.software_information
#   service(reg=None, offline_begin=None, offline_end=None, soft=None,
#           get_reg_info=False, ad_infos=None, geo=None) -> ServiceRequest
#   request(command, block=None, value=None, service=None) -> Request
#   ticket_request / placement_request / close_shift_request /
#   report_request / system_request          -> whole Request dicts
#   nomenclature_request(barcode=None, version=0) -> COMMAND_NOMENCLATURE
#
# Conventions (PROTOCOL.md section 14): money is integer tiyn turned into
# Money {bills, coins}; quantities and tax percents are thousandths; dates
# are local wall-clock values (UTC + the register's offset) without zone.
#
# A receipt line becomes one COMMODITY item whose sum is the line before its
# modifiers (price x quantity); a line discount or markup follows it as a
# DISCOUNT or MARKUP item, so that total = commodities - discounts + markups
# (the OFD checks exactly this). The line's VAT (computed on the line's final
# sum, the figure printed on the receipt) is the commodity's tax.

from compat import civil_from_unix, const
from ofd import ProtocolError, money
from ofd import schema as S
from ofd.codec import MAX_U32, MAX_U64

TAX_TYPE_VAT = const(100)
# The device's own name for the modifiers (the protocol only needs a name).
DISCOUNT_NAME = "Жеңілдік / Скидка"
MARKUP_NAME = "Үстеме / Наценка"


def date_time(local_ts):
    # local wall-clock seconds -> DateTime {date, time}
    if not isinstance(local_ts, int):
        raise ProtocolError("bad time", local_ts)
    y, mo, d, hh, mi, ss = civil_from_unix(local_ts)
    return {"date": {"year": y, "month": mo, "day": d}, "time": {"hour": hh, "minute": mi, "second": ss}}


def operator(code, name=None):
    op = {"code": code}
    if name:
        op["name"] = name
    return op


def _tax(percent, vat):
    return {"tax_type": TAX_TYPE_VAT, "percent": percent, "sum": money(vat), "is_in_total_sum": True}


def _digits_int(s, limit):
    # a digit string that fits the field, as an int; None otherwise
    if not isinstance(s, str) or not s:
        return None
    for ch in s:
        if ch < "0" or ch > "9":
            return None
    v = int(s)
    return v if v <= limit else None


def _payment(p):
    out = {"type": p.kind, "sum": money(p.amount)}
    if p.kind == S.PAYMENT_CARD:
        card = {}
        if p.terminal:
            card["pos_terminal_id"] = p.terminal
        v = _digits_int(p.auth_code, MAX_U32)
        if v is not None:
            card["pos_autorization_code"] = v
        v = _digits_int(p.rrn, MAX_U64)
        if v is not None:
            card["pos_rrn"] = v
        if card:
            out["card_payment_fields"] = card
    elif p.kind == S.PAYMENT_MOBILE:
        if p.qr_id:
            out["mobile_payment_fields"] = {"qr_id": p.qr_id}
    return out


def _items(receipt, table):
    # table: only for a receipt without stamped rates (an old record)
    items = []
    for i in range(len(receipt.lines)):
        ln = receipt.lines[i]
        c = {
            "name": ln.name,
            "section_code": str(ln.section),
            "quantity": ln.qty_milli,
            "price": money(ln.price),
            "sum": money(ln.gross()),
            "measure_unit_code": ln.unit_code,
        }
        rate = receipt.rate(i, table)
        if rate > 0:
            c["taxes"] = [_tax(rate, receipt.line_vat(i, table))]
        if ln.nkt is not None:
            c["code"] = ln.nkt  # the National Catalogue element (kkm.catalog)
        if ln.gtin:
            c["barcode"] = ln.gtin
        if ln.ntin:
            c["ntin"] = ln.ntin
        if ln.marks:
            c["list_excise_stamp"] = list(ln.marks)
        items.append({"type": S.ITEM_TYPE_COMMODITY, "commodity": c})
        if ln.discount:
            items.append({"type": S.ITEM_TYPE_DISCOUNT,
                          "discount": {"name": DISCOUNT_NAME, "sum": money(ln.discount)}})
        if ln.markup:
            items.append({"type": S.ITEM_TYPE_MARKUP,
                          "markup": {"name": MARKUP_NAME, "sum": money(ln.markup)}})
    return items


def ticket(receipt, table, local_ts, shift_no, doc_no, offline_number=None, operator_name=None, utc_offset=0):
    # TicketRequest from a validated kkm.document.Receipt: its stamped rates
    # (table None) or, for an old record without them, the rates of
    # `table` (the table in force on the document's date). local_ts: the sale
    # time on the local wall clock (kept unchanged on every resend);
    # offline_number: the device's own number of an offline receipt;
    # utc_offset: seconds added to the parent receipt's UTC time.
    t = {
        "operation": receipt.op,
        "date_time": date_time(local_ts),
        "operator": operator(receipt.cashier_code, operator_name),
        "domain": {"type": S.DOMAIN_TRADING},
        "items": _items(receipt, table),
        "payments": [_payment(p) for p in receipt.payments],
        "amounts": {"total": money(receipt.total()), "taken": money(receipt.taken()),
                    "change": money(receipt.change())},
        "fr_shift_number": shift_no,
        "shift_document_number": doc_no,
    }
    ext = {}
    if receipt.buyer_email:
        ext["customer_email"] = receipt.buyer_email
    if receipt.buyer_phone:
        ext["customer_phone"] = receipt.buyer_phone
    if receipt.buyer_iin:
        ext["customer_iin_or_bin"] = receipt.buyer_iin
    if ext:
        t["extension_options"] = ext
    if offline_number is not None:
        t["offline_ticket_number"] = offline_number
    pa = receipt.parent
    if pa is not None:
        t["parent_ticket"] = {
            "parent_ticket_number": pa.number,
            "parent_ticket_data_time": date_time(pa.ts + utc_offset),
            "kgd_kkm_id": pa.kkm_rnm,
            "parent_ticket_total": money(pa.total),
            "parent_ticket_is_offline": pa.offline,
        }
    return t


def money_placement(placement, local_ts, shift_no, doc_no, offline=False, operator_name=None):
    # MoneyPlacementRequest from a kkm.document.Placement (KZ-21, KZ-27)
    return {
        "datetime": date_time(local_ts),
        "operation": placement.kind,
        "sum": money(placement.amount),
        "is_offline": bool(offline),
        "fr_shift_number": shift_no,
        "printed_document_number": doc_no,
        "operator": operator(placement.cashier_code, operator_name),
    }


def close_shift(zx, local_ts, shift_no, operator_code, offline=False, operator_name=None):
    # CloseShiftRequest (KZ-22); zx: ShiftCounters.zx_report(REPORT_Z, ...)
    return {
        "close_time": date_time(local_ts),
        "is_offline": bool(offline),
        "fr_shift_number": shift_no,
        "withdraw_money": False,
        "z_report": zx,
        "operator": operator(operator_code, operator_name),
    }


def report(kind, zx, local_ts, offline=False):
    # ReportRequest (X = REPORT_X, Z = REPORT_Z) with the device's own report
    if kind != S.REPORT_X and kind != S.REPORT_Z:
        raise ProtocolError("bad enum value", "report")
    return {"report": kind, "date_time": date_time(local_ts), "is_offline": bool(offline), "zx_report": zx}


def reg_info(rnm, factory_no, kkm_id, title=None, address=None, bin_=None):
    # ServiceRequest.reg_info: sent with every fiscal request (protocol 200+)
    kkm = {"fns_kkm_id": rnm, "serial_number": factory_no, "kkm_id": str(kkm_id)}
    out = {"kkm": kkm}
    org = {}
    if title:
        org["title"] = title
    if address:
        org["address"] = address
    if bin_:
        org["inn"] = bin_
    if org:
        out["org"] = org
    return out


def software(version, name="kkm-firmware", build=None, model=None, runtime=None, arch=None):
    # ServiceRequest.software_information
    mod = {"name": name, "version": version}
    if build:
        mod["build_info"] = build
    if model:
        mod["device_info"] = {"model": model, "firmware_version": version}
    out = {"module_infos": [mod], "os_family": "MicroPython"}
    if runtime:
        out["runtime_version"] = runtime
    if arch:
        out["hardware_arch"] = arch
    return out


def service(reg=None, offline_begin=None, offline_end=None, soft=None, get_reg_info=False, ad_infos=None,
            geo=None):
    # ServiceRequest; offline_begin/offline_end are local wall-clock seconds
    # of the autonomous period (KZ-30.1), both or neither; geo: (latitude,
    # longitude, source) of the register (S000-2; source required since 203)
    s = {"get_reg_info": bool(get_reg_info)}
    if reg is not None:
        s["reg_info"] = reg
    if geo:
        s["security_stats"] = {"geo_position": {"latitude": geo[0], "longitude": geo[1], "source": geo[2]}}
    if offline_begin is not None:
        if offline_end is None or offline_end < offline_begin:
            raise ProtocolError("bad offline period", offline_end)
        s["offline_period"] = {"begin_time": date_time(offline_begin), "end_time": date_time(offline_end)}
    if soft is not None:
        s["software_information"] = soft
    if ad_infos:
        s["ticket_ad_infos"] = ad_infos
    return s


def request(command, block=None, value=None, service_block=None):
    # Request envelope: block is the field name of the command's request
    # ("ticket", "close_shift", "report", "money_placement", ...)
    r = {"command": command}
    if block is not None:
        r[block] = value
    if service_block is not None:
        r["service"] = service_block
    return r


def ticket_request(ticket_block, service_block=None):
    return request(S.COMMAND_TICKET, "ticket", ticket_block, service_block)


def placement_request(placement_block, service_block=None):
    return request(S.COMMAND_MONEY_PLACEMENT, "money_placement", placement_block, service_block)


def close_shift_request(close_block, service_block):
    # the service block is required with CLOSE_SHIFT (protocol 1.2.5+)
    return request(S.COMMAND_CLOSE_SHIFT, "close_shift", close_block, service_block)


def report_request(report_block, service_block):
    # the service block is required with REPORT (protocol 1.2.5+)
    return request(S.COMMAND_REPORT, "report", report_block, service_block)


def nomenclature_request(barcode=None, version=0):
    # COMMAND_NOMENCLATURE (PROTOCOL.md section 10): one element by its
    # GTIN/NTIN, else the catalogue newer than `version`
    if barcode:
        return request(S.COMMAND_NOMENCLATURE, "nomenclature", {"barcode": barcode})
    return request(S.COMMAND_NOMENCLATURE, "nomenclature", {"current_version": version})


def system_request(service_block):
    # COMMAND_SYSTEM: probe, registration data, offline period after a break
    return request(S.COMMAND_SYSTEM, None, None, service_block)
