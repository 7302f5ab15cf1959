"""Request builders for the host side (ofdctl, benchmark, tests).

Plain functions that return pb.Request messages; money in integer tiyn,
times as (Y, M, D, h, m, s) tuples.
"""

from tools.ofdsim.pbutil import pb as _pb, set_dt, set_money

VAT_16 = 16000  # thousandths of a percent (2026 Tax Code standard rate)


def system(get_reg_info=False, ad_versions=None, offline_period=None, get_binded_taxation=False):
    p = _pb()
    r = p.Request(command=p.COMMAND_SYSTEM)
    s = r.service
    s.get_reg_info = bool(get_reg_info)
    if get_binded_taxation:
        s.get_binded_taxation = True
    for typ, ver in sorted((ad_versions or {}).items()):
        a = s.ticket_ad_infos.add()
        a.type = typ
        a.version = ver
    if offline_period:
        set_dt(s.offline_period.begin_time, offline_period[0])
        set_dt(s.offline_period.end_time, offline_period[1])
    return r


def info():
    p = _pb()
    r = p.Request(command=p.COMMAND_INFO)
    r.service.get_reg_info = False
    return r


def report(kind, when):
    """kind: 'x' or 'z'."""
    p = _pb()
    r = p.Request(command=p.COMMAND_REPORT)
    r.report.report = p.REPORT_X if kind == "x" else p.REPORT_Z
    set_dt(r.report.date_time, when)
    r.service.get_reg_info = False
    return r


def nomenclature(barcode=None, version=None):
    p = _pb()
    r = p.Request(command=p.COMMAND_NOMENCLATURE)
    if barcode is not None:
        r.nomenclature.barcode = barcode
    else:
        r.nomenclature.current_version = version or 0
    return r


def ticket(when, lines, operation=2, payments=None, offline_number=None, offline_period=None,
           operator=(1, "Кассир"), customer_bin=None, discount=0, parent=None, change=0):
    """lines: [(name, qty_thousandths, price_tiyn, section)] or with a 5th item: barcode.
    payments: [(type, tiyn)], default all cash. The VAT of each line is 12/112 of it."""
    p = _pb()
    r = p.Request(command=p.COMMAND_TICKET)
    t = r.ticket
    t.operation = operation
    set_dt(t.date_time, when)
    t.operator.code = operator[0]
    t.operator.name = operator[1]
    t.domain.type = p.DOMAIN_TRADING
    total = 0
    for ln in lines:
        name, qty, price, section = ln[:4]
        it = t.items.add()
        it.type = p.TicketRequest.Item.ITEM_TYPE_COMMODITY
        c = it.commodity
        c.name = name
        c.section_code = str(section)
        c.quantity = qty
        set_money(c.price, price)
        line = (price * qty + 500) // 1000
        set_money(c.sum, line)
        c.measure_unit_code = "796"
        if len(ln) > 4 and ln[4]:
            c.barcode = ln[4]
        tax = c.taxes.add()
        tax.tax_type = 100
        tax.taxation_type = 101
        tax.percent = VAT_16
        set_money(tax.sum, (line * 16 + 58) // 116)
        tax.is_in_total_sum = True
        total += line
    if discount:
        set_money(t.amounts.discount.sum, discount)
        t.amounts.discount.name = "Жеңілдік / Скидка"
        total -= discount
    set_money(t.amounts.total, total)
    pays = payments if payments is not None else [(p.PAYMENT_CASH, total + change)]
    for typ, s in pays:
        pm = t.payments.add()
        pm.type = typ
        set_money(pm.sum, s)
    if any(typ == p.PAYMENT_CASH for typ, _ in pays):
        set_money(t.amounts.taken, sum(s for typ, s in pays if typ == p.PAYMENT_CASH))
        set_money(t.amounts.change, change)
    if offline_number is not None:
        t.offline_ticket_number = offline_number
    if offline_period:
        set_dt(r.service.offline_period.begin_time, offline_period[0])
        set_dt(r.service.offline_period.end_time, offline_period[1])
    if customer_bin:
        t.extension_options.customer_iin_or_bin = customer_bin
    if parent is not None:
        pt = t.parent_ticket
        pt.parent_ticket_number = parent[0]
        set_dt(pt.parent_ticket_data_time, parent[1])
        pt.kgd_kkm_id = parent[2]
        set_money(pt.parent_ticket_total, parent[3])
        pt.parent_ticket_is_offline = bool(parent[4]) if len(parent) > 4 else False
    return r


def close_shift(when, withdraw_money=False, offline=False, z_report=None, fr_shift_number=None):
    """z_report: the register's own pb ZXReport (compared with the OFD's, zcheck.py)."""
    p = _pb()
    r = p.Request(command=p.COMMAND_CLOSE_SHIFT)
    cs = r.close_shift
    set_dt(cs.close_time, when)
    if z_report is not None:
        cs.z_report.CopyFrom(z_report)
    if fr_shift_number is not None:
        cs.fr_shift_number = fr_shift_number
    cs.operator.code = 1
    cs.operator.name = "Кассир"
    if withdraw_money:
        cs.withdraw_money = True
    if offline:
        cs.is_offline = True
    r.service.get_reg_info = False
    return r


def money_placement(when, amount, withdrawal=False, offline=False):
    p = _pb()
    r = p.Request(command=p.COMMAND_MONEY_PLACEMENT)
    mp = r.money_placement
    set_dt(mp.datetime, when)
    mp.operation = p.MONEY_PLACEMENT_WITHDRAWAL if withdrawal else p.MONEY_PLACEMENT_DEPOSIT
    set_money(mp.sum, amount)
    mp.operator.code = 1
    mp.operator.name = "Кассир"
    if offline:
        mp.is_offline = True
    return r
