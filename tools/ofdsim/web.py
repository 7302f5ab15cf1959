"""Web side of the simulator (aiohttp): the receipt check page the QR code
points to, the list of registers and their documents, and the JSON admin API
(faults, registers, blocking, text messages, tokens, settings, the Z and X
checks)."""

import html
import ipaddress
import json

from aiohttp import web

from tools.ofdsim import zcheck
from tools.ofdsim.faults import FaultError
from tools.ofdsim.pbutil import from_iso, money_text, qr_time, tiyn

OPERATIONS = {
    0: ("Сатып алу", "Покупка"),
    1: ("Сатып алуды қайтару", "Возврат покупки"),
    2: ("Сату", "Продажа"),
    3: ("Сатуды қайтару", "Возврат продажи"),
}
PAYMENTS = {
    0: ("Қолма-қол ақша", "Наличные"),
    1: ("Банк картасы", "Банковская карта"),
    2: ("Несие", "Кредит"),
    3: ("Ыдыс", "Тара"),
    4: ("Мобильді төлем", "Мобильный платёж"),
}
AD_TYPES = {"OFD": 0, "ORG": 1, "POS": 2, "KKM": 3, "INFO": 4}

_CSS = """
body{font-family:"DejaVu Sans","Noto Sans",Arial,sans-serif;margin:0;background:#eef1f4;color:#1d2733}
header{background:#1f4e79;color:#fff;padding:12px 24px;font-size:18px}
main{max-width:760px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:6px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:22px;margin:0 0 16px}
.kk{display:block}.ru{display:block;color:#555;font-size:90%}
table{border-collapse:collapse;width:100%;margin:12px 0}
th,td{border-bottom:1px solid #dde3ea;padding:6px 8px;text-align:left;vertical-align:top;font-size:14px}
td.num,th.num{text-align:right;white-space:nowrap}
.status{padding:12px 16px;border-radius:4px;margin-bottom:16px;font-weight:bold}
.found{background:#e3f4e6;color:#1b5e20}.not-found{background:#fdecea;color:#8e1b10}
.mismatch{background:#fff4e0;color:#8a5300}
.zmatch{color:#1b5e20;font-weight:bold}.zdiff{color:#8e1b10;font-weight:bold}.znone{color:#666}
table.zdiffs{margin:4px 0;width:auto}table.zdiffs td{font-size:12px;padding:2px 6px;font-family:monospace}
table.zdiffs td:first-child{word-break:break-all}
.total td{font-weight:bold;font-size:16px}
.qr{float:right;margin-left:16px}
.small{font-size:12px;color:#666;word-break:break-all}
"""


def _e(s):
    return html.escape(str(s), quote=True)


def _bi(kk, ru):
    return '<span class="kk" lang="kk">%s</span><span class="ru" lang="ru">%s</span>' % (_e(kk), _e(ru))


def _page(title, body, status=200):
    doc = ('<!DOCTYPE html><html lang="kk"><head><meta charset="utf-8"><title>%s</title><style>%s</style>'
           '</head><body><header>ОФД симуляторы / Симулятор ОФД</header><main>%s</main></body></html>'
           % (_e(title), _CSS, body))
    return web.Response(text=doc, content_type="text/html", charset="utf-8", status=status)


def _digits(s):
    """ASCII digits only (str.isdigit() also takes '²', '١' and full-width digits)."""
    return bool(s) and s.isascii() and s.isdigit()


def _parse_sum(s):
    """'696.90' / '696.9' / '696' -> tiyn, or None."""
    s = (s or "").strip()
    if not s:
        return None
    whole, _, frac = s.partition(".")
    if not _digits(whole) or (frac and (not _digits(frac) or len(frac) > 2)):
        return None
    return int(whole) * 100 + int((frac + "00")[:2] if frac else "0")


def _loopback(remote):
    try:
        return ipaddress.ip_address((remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _shown(path, value):
    """A differing value on the page: money in tenge (1 190.00), counts as counts, times as they are."""
    v = zcheck.display(path, value)
    return "—" if v is None else v


def _zcheck_cell(c, attr="zcheck"):
    """Register page cell: the register's Z (or X, attr="xcheck") against the OFD's (zcheck.py)."""
    if c is None:
        return '<td class="zcheck znone" data-%s="not-checked">%s</td>' % (attr, _bi("тексерілмеген", "не проверялся"))
    if c["status"] == "absent":
        return '<td class="zcheck znone" data-%s="absent">%s</td>' % (attr, _bi("жіберілмеген", "не передан"))
    if c["status"] == "matches":
        return ('<td class="zcheck"><span class="zmatch" data-%s="matches">matches</span>%s</td>'
                % (attr, _bi("сәйкес", "совпадает")))
    rows = "".join('<tr data-path="%s"><td>%s</td><td class="num">%s</td><td class="num">%s</td></tr>'
                   % (_e(p), _e(p), _e(_shown(p, dv)), _e(_shown(p, sv)))
                   for p, dv, sv in c["differences"])
    more = c["count"] - len(c["differences"])
    if more > 0:
        rows += '<tr><td colspan="3">+%d</td></tr>' % more
    return ('<td class="zcheck"><span class="zdiff" data-%s="differs">differs</span>%s'
            '<table class="zdiffs"><tr><th>field</th><th class="num">%s</th><th class="num">%s</th></tr>%s'
            '</table></td>' % (attr, _bi("сәйкес емес", "не совпадает"), _bi("ККМ", "ККМ"), _bi("ОФД", "ОФД"), rows))


def _xcheck_table(x):
    """Register page: the register's last X against the OFD's X of that moment."""
    if x is None:
        return ('<table id="xcheck"><tr><td class="zcheck znone" data-xcheck="none">%s</td></tr></table>'
                % _bi("X-есеп жіберілмеген", "X-отчёт не передавался"))
    return ('<table id="xcheck"><tr><th>%s</th><th>%s</th><th>%s</th></tr>'
            '<tr data-shift="%d"><td class="num">%d</td><td>%s</td>%s</tr></table>'
            % (_bi("Ауысым", "Смена"), _bi("X-есеп уақыты", "Время X-отчёта"), _bi("ККМ X-есебі", "X-отчёт ККМ"),
               x["shift_number"], x["shift_number"], _e(x["report_time"].replace("T", " ")),
               _zcheck_cell({"status": x["xcheck"], "count": x["count"], "differences": x["differences"]},
                            "xcheck")))


def make_app(srv):
    # The check page and the register list are public (a phone scanning a
    # receipt's QR code reaches them when --http-host is not loopback); the
    # admin API (faults, tokens, blocking, registration) answers loopback
    # clients only, unless the server was started with admin_remote=True.
    allow_remote = bool(getattr(srv, "admin_remote", False))

    @web.middleware
    async def admin_guard(request, handler):
        if request.path.startswith("/admin") and not allow_remote and not _loopback(request.remote):
            return web.json_response({"error": "the admin API answers loopback clients only"}, status=403)
        return await handler(request)

    app = web.Application(middlewares=[admin_guard])
    r = app.router

    def store():
        return srv.store

    # -------------------------------------------------------- check page (R-82, KZ-33, KZ-35)
    async def check(request):
        q = request.query
        i, f, s, t = q.get("i", ""), q.get("f", ""), q.get("s", ""), q.get("t", "")
        ask = ('<table><tr><th>%s</th><td>%s</td></tr><tr><th>%s</th><td>%s</td></tr>'
               '<tr><th>%s</th><td>%s</td></tr><tr><th>%s</th><td>%s</td></tr></table>'
               % (_bi("Фискалдық белгі", "Фискальный признак"), _e(i), _bi("Тіркеу нөмірі (РНМ)", "РНМ"), _e(f),
                  _bi("Сомасы", "Сумма"), _e(s), _bi("Күні мен уақыты", "Дата и время"), _e(t)))
        kkm, row = store().find_ticket(f, i) if i and f else (None, None)
        if row is None:
            # an autonomous receipt is known once the register has sent it (KZ-30.2)
            later = ""
            if kkm is not None and i.isascii() and i.isdigit():
                later = '<p id="autonomous">%s</p>' % _bi(
                    "Автономды режимде берілген чек ККМ оны ОФД-ға жібергеннен кейін табылады",
                    "Чек, выданный в автономном режиме, будет найден после того, как ККМ передаст его в ОФД")
            body = ('<h1>%s</h1><div id="result" class="status not-found" data-status="not-found">%s</div>%s%s'
                    % (_bi("Чекті тексеру", "Проверка чека"),
                       _bi("Чек табылмады", "Чек не найден"), later, ask))
            return _page("Чек табылмады / Чек не найден", body, 404)
        mism = []
        if _parse_sum(s) != row["total"]:
            mism.append(("s", _bi("Сомасы", "Сумма"), s, money_text(row["total"])))
        if t != qr_time(from_iso(row["date_time"])):
            mism.append(("t", _bi("Күні мен уақыты", "Дата и время"), t, qr_time(from_iso(row["date_time"]))))
        if mism:
            rows = "".join('<tr data-field="%s"><th>%s</th><td>%s</td></tr>' % (_e(k), lab, _e(got))
                           for k, lab, got, _ in mism)
            body = ('<h1>%s</h1><div id="result" class="status mismatch" data-status="mismatch">%s</div>'
                    '<p>%s</p><table>%s</table>'
                    % (_bi("Чекті тексеру", "Проверка чека"),
                       _bi("Чек деректері сәйкес келмейді", "Данные чека не совпадают"),
                       _bi("Сұрауда көрсетілген, бірақ сәйкес келмейтін деректер:",
                           "Указанные в запросе данные, которые не совпадают:"), rows))
            return _page("Сәйкес келмейді / Не совпадает", body, 409)
        return _page("Фискалдық чек / Фискальный чек", _receipt_html(srv, kkm, row))

    # -------------------------------------------------------- registers and documents
    async def index(request):
        rows = []
        for k in store().kkms():
            kid = k["kkm_id"]
            checks = store().z_checks(kid)
            differ = sum(1 for c in checks if c["zcheck"] == "differs")
            zcell = ('<td class="num" data-z="%d" data-z-differs="%d">%d%s</td>'
                     % (len(checks), differ, len(checks),
                        (' <span class="zdiff" data-zcheck="differs">(%d %s)</span>'
                         % (differ, _e("differs"))) if differ else ""))
            rows.append('<tr data-kkm="%d"><td><a href="/registers/%d">%d</a></td><td>%s</td><td>%s</td>'
                        '<td>%s</td><td>%s</td><td class="num">%d</td>%s<td>%s</td></tr>'
                        % (kid, kid, kid, _e(k["rnm"]), _e(k["serial"]), _e(k["title"]), _e(k["bin"]),
                           store().count("tickets", kid), zcell,
                           _bi("бұғатталған", "заблокирована") if k["blocked"] else "—"))
        body = ('<h1>%s</h1><table id="registers"><tr><th>ID</th><th>%s</th><th>%s</th><th>%s</th>'
                '<th>%s</th><th class="num">%s</th><th class="num">%s</th><th>%s</th></tr>%s</table>'
                % (_bi("Тіркелген ККМ", "Зарегистрированные ККМ"), _bi("РНМ", "РНМ"),
                   _bi("Зауыттық нөмірі", "Заводской номер"), _bi("Салық төлеуші", "Налогоплательщик"),
                   _bi("БСН/ЖСН", "БИН/ИИН"), _bi("Чектер", "Чеки"), _bi("Z-есептер", "Z-отчёты"),
                   _bi("Күйі", "Состояние"), "".join(rows)))
        return _page("ККМ / ККМ", body)

    async def register_page(request):
        try:
            kid = int(request.match_info["kid"])
        except ValueError:
            raise web.HTTPNotFound()
        k = store().kkm(kid)
        if k is None:
            return _page("404", '<div id="result" class="status not-found" data-status="not-found">%s</div>'
                         % _bi("ККМ табылмады", "ККМ не найдена"), 404)
        st = store()
        trs = []
        for t in st.tickets(kid):
            href = t["qr"][t["qr"].index("/check?"):]
            trs.append('<tr><td class="num">%d</td><td class="num">%d</td><td>%s</td><td>%s</td>'
                       '<td class="num">%s</td><td><a class="sign" href="%s">%s</a></td><td>%s</td></tr>'
                       % (t["seq"], t["shift_number"], _e(t["date_time"].replace("T", " ")),
                          _bi(*OPERATIONS[t["operation"]]), money_text(t["total"]), _e(href), _e(t["fiscal_sign"]),
                          "" if t["offline_number"] is None else _e(t["offline_number"])))
        zs = "".join('<tr data-shift="%d"><td class="num">%d</td><td>%s</td><td>%s</td><td>%s</td>%s</tr>'
                     % (z["shift_number"], z["shift_number"], _e(z["opened_at"]), _e(z["closed_at"]),
                        "offline" if z["offline"] else "", _zcheck_cell(st.zcheck_of(z)))
                     for z in st.z_reports(kid))
        mps = "".join('<tr><td>%s</td><td>%s</td><td class="num">%s</td></tr>'
                      % (_e(m["date_time"]), _bi("Салу", "Внесение") if m["operation"] == 0
                         else _bi("Алу", "Изъятие"), money_text(m["amount"]))
                      for m in st.money_placements(kid))
        body = ('<h1>%s %d</h1><p>%s — %s, %s: %s, %s: %s</p><h2>%s</h2><table id="tickets"><tr><th>№</th>'
                '<th>%s</th><th>%s</th><th>%s</th><th class="num">%s</th><th>%s</th><th>%s</th></tr>%s</table>'
                '<h2>%s</h2><table id="zreports"><tr><th>%s</th><th>%s</th><th>%s</th><th></th><th>%s</th></tr>%s</table>'
                '<h2>%s</h2>%s'
                '<h2>%s</h2><table id="money"><tr><th>%s</th><th>%s</th><th class="num">%s</th></tr>%s</table>'
                '<p>%s: %s</p>'
                % ("ККМ", kid, _e(k["title"]), _e(k["address"]), "РНМ", _e(k["rnm"]), "БИН", _e(k["bin"]),
                   _bi("Чектер", "Чеки"), _bi("Ауысым", "Смена"), _bi("Күні", "Дата"), _bi("Операция", "Операция"),
                   _bi("Сомасы", "Сумма"), _bi("Фискалдық белгі", "Фискальный признак"),
                   _bi("Дербес код", "Автономный код"), "".join(trs),
                   _bi("Z-есептер", "Z-отчёты"), _bi("Ауысым", "Смена"), _bi("Ашылды", "Открыта"),
                   _bi("Жабылды", "Закрыта"), _bi("ККМ Z-есебі", "Z-отчёт ККМ"), zs,
                   _bi("Соңғы X-есеп", "Последний X-отчёт"), _xcheck_table(st.x_check(kid)),
                   _bi("Қолма-қол ақшаны салу/алу", "Внесения/изъятия"), _bi("Күні", "Дата"),
                   _bi("Операция", "Операция"), _bi("Сомасы", "Сумма"), mps,
                   _bi("Кассадағы қолма-қол ақша", "Наличные в кассе"), money_text(st.cash(kid))))
        return _page("ККМ %d" % kid, body)

    # -------------------------------------------------------- admin JSON API
    async def _json(request):
        try:
            return await request.json()
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text=json.dumps({"error": "body must be JSON"}),
                                     content_type="application/json")

    def _bad(msg, status=400):
        return web.json_response({"error": msg}, status=status)

    def _kkm_json(k):
        d = dict(k)
        d["tickets"] = store().count("tickets", k["kkm_id"])
        d["cash"] = store().cash(k["kkm_id"])
        return d

    async def status(request):
        return web.json_response({"port": srv.port, "http_port": srv.http_port, "stats": srv.ofd.stats,
                                  "down": srv.down_until is not None, "faults": srv.faults.list(),
                                  "registers": store().count("kkms"), "connections": srv.connections,
                                  "settings": _settings()})

    def _settings():
        # kept in the database (Store settings table): a restart keeps them
        return {"reject_z_mismatch": srv.ofd.reject_z_mismatch}

    async def settings_get(request):
        return web.json_response(_settings())

    async def settings_post(request):
        d = await _json(request)
        if not isinstance(d, dict) or set(d) - {"reject_z_mismatch"}:
            return _bad("known settings: reject_z_mismatch")
        if "reject_z_mismatch" in d:
            if not isinstance(d["reject_z_mismatch"], bool):
                return _bad("reject_z_mismatch is true or false")
            srv.ofd.reject_z_mismatch = d["reject_z_mismatch"]
            await srv.durable()
        return web.json_response(_settings())

    async def zreports(request):
        kid = _kid(request)
        if kid is None:
            return _bad("no such register", 404)
        return web.json_response(store().z_checks(kid))

    async def xcheck(request):
        kid = _kid(request)
        if kid is None:
            return _bad("no such register", 404)
        return web.json_response(store().x_check(kid))

    async def faults_get(request):
        return web.json_response(srv.faults.list())

    async def faults_post(request):
        spec = await _json(request)
        specs = spec if isinstance(spec, list) else [spec]
        out = []
        try:
            for s in specs:
                if not isinstance(s, dict):
                    return _bad("a fault is a JSON object")
                out.append(srv.add_fault(s).as_dict())
        except FaultError as e:
            return _bad(str(e))
        return web.json_response(out if isinstance(spec, list) else out[0], status=201)

    async def faults_clear(request):
        srv.clear_faults()
        return web.json_response({"cleared": True})

    async def fault_delete(request):
        try:
            fid = int(request.match_info["fid"])
        except ValueError:
            return _bad("fault id is a number")
        if not srv.faults.remove(fid):
            return _bad("no such fault", 404)
        return web.json_response({"removed": fid})

    async def registers_get(request):
        return web.json_response([_kkm_json(k) for k in store().kkms()])

    async def registers_post(request):
        d = await _json(request)
        try:
            d = dict(d)
            k = store().register(d.pop("kkm_id"), d.pop("rnm"), d.pop("serial"), d.pop("title"), d.pop("bin"),
                                 d.pop("address"), d.pop("token"), **d)
        except KeyError as e:
            return _bad("missing field %s" % e.args[0])
        except (ValueError, TypeError) as e:
            return _bad(str(e))
        except Exception as e:  # sqlite3.IntegrityError: duplicate RNM, unknown column
            return _bad(str(e))
        await srv.durable()
        return web.json_response(_kkm_json(k), status=201)

    def _kid(request):
        try:
            kid = int(request.match_info["kid"])
        except ValueError:
            return None
        return kid if store().kkm(kid) is not None else None

    async def block(request):
        kid = _kid(request)
        if kid is None:
            return _bad("no such register", 404)
        d = await _json(request) if request.can_read_body else {}
        store().set_blocked(kid, True, str(d.get("reason", "")))
        await srv.durable()
        return web.json_response(_kkm_json(store().kkm(kid)))

    async def unblock(request):
        kid = _kid(request)
        if kid is None:
            return _bad("no such register", 404)
        store().set_blocked(kid, False, "")
        await srv.durable()
        return web.json_response(_kkm_json(store().kkm(kid)))

    async def set_token(request):
        kid = _kid(request)
        if kid is None:
            return _bad("no such register", 404)
        d = await _json(request)
        try:
            tok = int(d["token"])
        except (KeyError, TypeError, ValueError):
            return _bad("token is a number")
        if not 0 <= tok <= 0xFFFFFFFF:
            return _bad("token out of range")
        store().set_token(kid, tok)
        await srv.durable()
        return web.json_response(_kkm_json(store().kkm(kid)))

    async def message(request):
        kid = None
        if "kid" in request.match_info:
            kid = _kid(request)
            if kid is None:
                return _bad("no such register", 404)
        d = await _json(request)
        typ = d.get("type", "INFO")
        typ = AD_TYPES.get(str(typ).upper(), typ)
        if typ not in AD_TYPES.values() or not isinstance(d.get("text"), str) or not d["text"]:
            return _bad("need type (OFD|ORG|POS|KKM|INFO or 0..4) and a text")
        version = store().add_ad(kid, typ, d["text"])
        await srv.durable()
        return web.json_response({"kkm_id": kid, "type": typ, "version": version}, status=201)

    r.add_get("/", index)
    r.add_get("/registers", index)
    r.add_get("/registers/{kid}", register_page)
    r.add_get("/check", check)
    r.add_get("/admin/status", status)
    r.add_get("/admin/settings", settings_get)
    r.add_post("/admin/settings", settings_post)
    r.add_get("/admin/registers/{kid}/zreports", zreports)
    r.add_get("/admin/registers/{kid}/xcheck", xcheck)
    r.add_get("/admin/faults", faults_get)
    r.add_post("/admin/faults", faults_post)
    r.add_delete("/admin/faults", faults_clear)
    r.add_delete("/admin/faults/{fid}", fault_delete)
    r.add_get("/admin/registers", registers_get)
    r.add_post("/admin/registers", registers_post)
    r.add_post("/admin/registers/{kid}/block", block)
    r.add_post("/admin/registers/{kid}/unblock", unblock)
    r.add_post("/admin/registers/{kid}/token", set_token)
    r.add_post("/admin/registers/{kid}/messages", message)
    r.add_post("/admin/messages", message)
    return app


def _receipt_html(srv, kkm, row):
    pb = srv.ofd.pb
    req = pb.Request()
    req.ParseFromString(row["request"])
    t = req.ticket
    items = []
    for it in t.items:
        if it.type == 1:
            c = it.commodity
            items.append((c.name, "%d.%03d" % divmod(c.quantity, 1000), money_text(tiyn(c.price)),
                          money_text(tiyn(c.sum))))
        elif it.type == 2:
            c = it.storno_commodity
            items.append(("Сторно: " + c.name, "%d.%03d" % divmod(c.quantity, 1000), "",
                          "-" + money_text(tiyn(c.sum))))
        elif it.type in (5, 3):
            m = it.discount if it.type == 5 else it.markup
            label = "Жеңілдік / Скидка" if it.type == 5 else "Үстеме / Наценка"
            items.append(("%s: %s" % (label, m.name), "", "",
                          ("-" if it.type == 5 else "") + money_text(tiyn(m.sum))))
    item_rows = "".join('<tr class="item"><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
                        '<td class="num">%s</td></tr>' % tuple(_e(x) for x in i) for i in items)
    taxes = {}
    for it in t.items:
        if it.type == 1:
            for tax in it.commodity.taxes:
                taxes[tax.percent] = taxes.get(tax.percent, 0) + tiyn(tax.sum)
    for tax in t.taxes:
        taxes[tax.percent] = taxes.get(tax.percent, 0) + tiyn(tax.sum)
    def pct(p):
        return "%d%%" % (p // 1000) if p % 1000 == 0 else "%d.%03d%%" % divmod(p, 1000)
    tax_rows = "".join('<tr class="tax"><td colspan="3">%s</td><td class="num">%s</td></tr>'
                       % (_bi("оның ішінде ҚҚС " + pct(p), "в том числе НДС " + pct(p)), money_text(v))
                       for p, v in sorted(taxes.items()))
    for field, kk, ru, sign in (("discount", "Чекке жеңілдік", "Скидка на чек", "-"),
                                ("markup", "Чекке үстеме", "Наценка на чек", "")):
        if t.amounts.HasField(field):
            m = getattr(t.amounts, field)
            item_rows += '<tr class="item"><td colspan="3">%s</td><td class="num">%s%s</td></tr>' % (
                _bi(kk + (": " + m.name if m.name else ""), ru), sign, money_text(tiyn(m.sum)))
    pay_rows = "".join('<tr><td colspan="3">%s</td><td class="num">%s</td></tr>'
                       % (_bi(*PAYMENTS.get(p.type, ("?", "?"))), money_text(tiyn(p.sum)))
                       for p in t.payments)
    if t.amounts.HasField("change") and (t.amounts.change.bills or t.amounts.change.coins):
        pay_rows += '<tr><td colspan="3">%s</td><td class="num">%s</td></tr>' % (
            _bi("Қайтарым", "Сдача"), money_text(tiyn(t.amounts.change)))
    qr_svg = ""
    try:
        import segno
        qr_svg = '<div class="qr">%s</div>' % segno.make(row["qr"], error="m").svg_inline(scale=3)
    except Exception:  # segno missing: the page still shows the receipt
        qr_svg = ""
    offline = ""
    if row["offline_number"] is not None:
        offline = '<p id="offline">%s: %d</p>' % (_bi("Автономды режимде жасалған, дербес код",
                                                      "Сформирован в автономном режиме, автономный код"),
                                                  row["offline_number"])
    op_kk, op_ru = OPERATIONS[row["operation"]]
    return (
        '<h1>%s</h1><div id="result" class="status found" data-status="found">%s</div>%s'
        '<p><b>%s</b><br>%s: %s<br>%s</p>'
        '<table id="meta"><tr><th>%s</th><td>%s</td></tr><tr><th>%s</th><td>%s</td></tr>'
        '<tr><th>%s</th><td>%s</td></tr><tr><th>%s</th><td>%s</td></tr>'
        '<tr><th>%s</th><td id="sign">%s</td></tr><tr><th>%s</th><td>%s</td></tr></table>%s'
        '<table id="items"><tr><th>%s</th><th class="num">%s</th><th class="num">%s</th><th class="num">%s</th></tr>'
        '%s<tr class="total"><td colspan="3">%s</td><td class="num" id="total">%s</td></tr>%s%s</table>'
        '<p class="small">%s</p>'
        % (_bi("Фискалдық чек", "Фискальный чек"), _bi("Чек табылды", "Чек найден"), qr_svg,
           _e(kkm["title"]), "БСН / БИН", _e(kkm["bin"]),
           _e(kkm["address_kz"] + " / " + kkm["address"] if kkm["address_kz"] and kkm["address_kz"] != kkm["address"]
              else kkm["address"]),
           _bi("Операция", "Операция"), _bi(op_kk, op_ru),
           _bi("Күні мен уақыты", "Дата и время"), _e(row["date_time"].replace("T", " ")),
           _bi("Тіркеу нөмірі (РНМ)", "Регистрационный номер (РНМ)"), _e(kkm["rnm"]),
           _bi("Зауыттық нөмірі", "Заводской номер"), _e(kkm["serial"]),
           _bi("Фискалдық белгі", "Фискальный признак"), _e(row["fiscal_sign"]),
           _bi("Кассир", "Кассир"), _e("%s (%d)" % (t.operator.name, t.operator.code)),
           offline,
           _bi("Атауы", "Наименование"), _bi("Саны", "Кол-во"), _bi("Бағасы", "Цена"), _bi("Сомасы", "Сумма"),
           item_rows, _bi("Барлығы", "Итого"), money_text(row["total"]), tax_rows, pay_rows,
           _e(row["qr"])))
