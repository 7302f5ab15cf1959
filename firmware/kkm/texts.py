# Device-facing strings in Kazakh and Russian, looked up by an int code.
# Codes are grouped by the module that raises or prints them:
#   100-199 kkm.document (DocumentError codes), 200-299 kkm.layout and
#   reports, 300-399 kkm.locks, 400-499 kkm.auth, 500-599 kkm.settings,
#   600-699 kkm.register. Other modules may register their own strings with
#   add() at import time instead of editing this table.

from compat import const

# kkm.document errors (DocumentError.args[0])
E_NO_LINES = const(101)
E_LINE = const(102)
E_TAX_GROUP = const(103)
E_PAY_SHORT = const(104)
E_PAY_OVER = const(105)
E_PAY_DUP = const(106)
E_TENDERED = const(107)
E_IIN = const(108)
E_GTIN = const(109)
E_NTIN = const(110)
E_MARK_REQUIRED = const(111)
E_MARK = const(112)
E_PARENT_REQUIRED = const(113)
E_PARENT_NOT_ALLOWED = const(114)
E_RETURN_OVER = const(115)
E_AMOUNT = const(116)
E_MODIFIER = const(117)
E_EMAIL = const(118)
E_PHONE = const(119)
E_INDEX = const(120)
E_TOO_MANY = const(121)
E_NAME = const(122)
E_SECTION = const(123)
E_UNIT = const(124)
E_SEALED = const(125)
E_PAY_KIND = const(126)
E_OP = const(127)
E_CASHIER = const(128)
E_DECODE = const(129)
E_PAY_FIELDS = const(130)
E_SAME_TAXPAYER = const(131)  # protocol result 17 SAME_TAXPAYER_AND_CUSTOMER
E_QTY_WHOLE = const(132)  # a piece unit sold in a fraction
E_LINE_SUM = const(133)  # price or price x quantity over MAX_AMOUNT
E_SCAN = const(134)  # nothing recognised in a scan (partial read, noise)
E_MARK_GOODS = const(135)  # a marking code of another good

# kkm.layout labels
L_SELL = const(201)
L_SELL_RETURN = const(202)
L_BUY = const(203)
L_BUY_RETURN = const(204)
L_DEPOSIT = const(205)
L_WITHDRAWAL = const(206)
L_FISCAL = const(207)
L_NOT_FISCAL = const(208)
L_OFFLINE = const(209)
L_BIN = const(210)
L_FACTORY = const(211)
L_RNM = const(212)
L_RECEIPT_NO = const(213)
L_SHIFT = const(214)
L_CASHIER = const(215)
L_DATETIME = const(216)
L_GTIN = const(217)
L_NTIN = const(218)
L_MARK = const(219)
L_SECTION = const(220)
L_DISCOUNT = const(221)
L_MARKUP = const(222)
L_TOTAL = const(223)
L_CASH = const(224)
L_TENDERED = const(225)
L_CHANGE = const(226)
L_CARD = const(227)
L_MOBILE = const(228)
L_TERMINAL = const(229)
L_AUTH = const(230)
L_RRN = const(231)
L_QR_ID = const(232)
L_VAT = const(233)
L_VAT_INCL = const(234)
L_NO_VAT = const(235)
L_NON_VAT_PAYER = const(236)
L_SALE_SUM = const(237)
L_BUY_SUM = const(238)
L_PARENT = const(239)
L_PARENT_OFFLINE = const(240)
L_BUYER_BIN = const(241)
L_EMAIL = const(242)
L_PHONE = const(243)
L_FISCAL_SIGN = const(244)
L_OFFLINE_SIGN = const(245)
L_OFD = const(246)
L_CHECK_SITE = const(247)
L_AMOUNT = const(248)
L_X_REPORT = const(249)
L_Z_REPORT = const(250)
L_OPENED = const(251)
L_CLOSED = const(252)
L_TICKETS = const(254)
L_CASH_SUM = const(255)
L_REVENUE = const(256)
L_NN = const(257)
L_NN_START = const(258)
L_OFFLINE_DOCS = const(259)
L_CASHIER_REPORT = const(261)
L_SECTION_REPORT = const(262)
L_CHECKSUM = const(263)
L_COPY = const(264)
L_OFD_TEXT = const(265)  # KZ-17: a text of the OFD (TicketAd types OFD, ORG, POS, KKM)
L_OFD_INFO = const(266)  # KZ-17: an information message (TICKET_AD_INFO)
# a document the OFD refused, set aside by the service engineer (PROTOCOL.md
# section 13; kkm.register.set_aside, kkm.layout.aside_lines)
L_REFUSED = const(267)
L_SET_ASIDE = const(268)
L_RESULT_CODE = const(269)
L_DOC_NO = const(270)
L_JOURNAL_NO = const(271)
# KZ-31.5: the OFD's Z printed, where the register's own Z says otherwise
L_Z_DIFFERS = const(290)
# the OFD's channels on the X report (KZ-18, KZ-40.5): their link and the
# one that carried the last exchange
L_CHANNELS = const(291)
L_CH_UP = const(292)
L_CH_DOWN = const(293)
L_CH_LAST = const(294)

# kkm.register refusals (kkm.locks holds the others)
E_NOT_REFUSED = const(620)  # set_aside: no document the OFD refused heads the queue

# code, kk, ru for every string, as one flat tuple of constants: no dict and
# no pair tuples are built at import (on the device the tuple is frozen into
# flash with the strings); ints only at the code positions
_T = (
    L_SELL, "САТУ", "ПРОДАЖА",
    L_SELL_RETURN, "САТУДЫ ҚАЙТАРУ", "ВОЗВРАТ ПРОДАЖИ",
    L_BUY, "САТЫП АЛУ", "ПОКУПКА",
    L_BUY_RETURN, "САТЫП АЛУДЫ ҚАЙТАРУ", "ВОЗВРАТ ПОКУПКИ",
    L_DEPOSIT, "КАССАҒА ЕНГІЗУ", "ВНЕСЕНИЕ В КАССУ",
    L_WITHDRAWAL, "КАССАДАН АЛУ", "ИЗЪЯТИЕ ИЗ КАССЫ",
    L_FISCAL, "ФИСКАЛДЫҚ ЧЕК", "ФИСКАЛДЫҚ ЧЕК / ФИСКАЛЬНЫЙ ЧЕК",
    L_NOT_FISCAL, "ФИСКАЛДЫҚ ЕМЕС ҚҰЖАТ", "НЕФИСКАЛЬНЫЙ ДОКУМЕНТ",
    L_OFFLINE, "Автономды", "Автономды / Автономный режим",
    L_BIN, "ЖСН/БСН", "ИИН/БИН",
    L_FACTORY, "ЗНМ", "ЗНМ",
    L_RNM, "РНМ", "РНМ",
    L_RECEIPT_NO, "Чек №", "Чек №",
    L_SHIFT, "Ауысым №", "Смена №",
    L_CASHIER, "Кассир", "Кассир",
    L_DATETIME, "Күні, уақыты", "Дата, время",
    L_GTIN, "GTIN", "GTIN",
    L_NTIN, "NTIN", "NTIN",
    L_MARK, "Таңба", "Маркировка",
    L_SECTION, "Бөлім", "Секция",
    L_DISCOUNT, "Жеңілдік", "Скидка",
    L_MARKUP, "Үстеме", "Наценка",
    L_TOTAL, "ЖИЫНЫ", "ИТОГО",
    L_CASH, "Қолма-қол ақша", "Наличные",
    L_TENDERED, "Алынды", "Получено",
    L_CHANGE, "Қайтарым", "Сдача",
    L_CARD, "Банк картасы", "Банковская карта",
    L_MOBILE, "Мобильді төлем", "Мобильный платёж",
    L_TERMINAL, "Терминал", "Терминал",
    L_AUTH, "Авторизация коды", "Код авторизации",
    L_RRN, "RRN", "RRN",
    L_QR_ID, "QR ID", "QR ID",
    L_VAT, "ҚҚС", "НДС",
    L_VAT_INCL, "оның ішінде ҚҚС", "в т.ч. НДС",
    L_NO_VAT, "ҚҚС-сыз", "Без НДС",
    L_NON_VAT_PAYER, "ҚҚС төлеушісі емес", "Не плательщик НДС",
    L_SALE_SUM, "Сату сомасы", "Сумма продажи",
    L_BUY_SUM, "Сатып алу сомасы", "Сумма покупки",
    L_PARENT, "Бастапқы чек", "Исходный чек",
    L_PARENT_OFFLINE, "автономды режимде", "в автономном режиме",
    L_BUYER_BIN, "Сатып алушының ЖСН/БСН", "ИИН/БИН покупателя",
    L_EMAIL, "Эл. пошта", "Эл. почта",
    L_PHONE, "Телефон", "Телефон",
    L_FISCAL_SIGN, "Фискалдық белгі", "Фискальный признак",
    L_OFFLINE_SIGN, "Автономды фискалдық белгі", "Автономный фискальный признак",
    L_OFD, "ФДО", "ОФД",
    L_CHECK_SITE, "Чекті тексеру", "Проверка чека",
    L_AMOUNT, "Сома", "Сумма",
    L_X_REPORT, "X-ЕСЕП (ӨШІРУСІЗ)", "X-ОТЧЁТ (БЕЗ ГАШЕНИЯ)",
    L_Z_REPORT, "Z-ЕСЕП (АУЫСЫМДЫ ЖАБУ)", "Z-ОТЧЁТ (ЗАКРЫТИЕ СМЕНЫ)",
    L_OPENED, "Ашылды", "Открыта",
    L_CLOSED, "Жабылды", "Закрыта",
    L_TICKETS, "Чектер", "Чеки",
    L_CASH_SUM, "Кассадағы қолма-қол ақша", "Наличные в кассе",
    L_REVENUE, "Түсім", "Выручка",
    L_NN, "Өшірілмейтін сома", "Необнуляемая сумма",
    L_NN_START, "Ауысым басындағы", "На начало смены",
    L_OFFLINE_DOCS, "Автономды құжаттар", "Автономные документы",
    L_CASHIER_REPORT, "КАССИРЛЕР БОЙЫНША ЕСЕП", "ОТЧЁТ ПО КАССИРАМ",
    L_SECTION_REPORT, "БӨЛІМДЕР БОЙЫНША ЕСЕП", "ОТЧЁТ ПО СЕКЦИЯМ",
    L_CHECKSUM, "Бақылау сомасы", "Контрольная сумма",
    L_COPY, "КӨШІРМЕ", "КӨШІРМЕ / КОПИЯ",
    L_OFD_TEXT, "ФДО ХАБАРЛАМАСЫ", "СООБЩЕНИЕ ОФД",
    L_OFD_INFO, "АҚПАРАТТЫҚ ХАБАРЛАМА", "ИНФОРМАЦИОННОЕ СООБЩЕНИЕ",
    L_REFUSED, "ФДО ҚАБЫЛДАМАҒАН ҚҰЖАТ", "ДОКУМЕНТ НЕ ПРИНЯТ ОФД",
    L_Z_DIFFERS, "БКМ ЕСЕБІНЕН АЙЫРМАШЫЛЫҚ (ФДО / БКМ)", "РАСХОЖДЕНИЕ С ОТЧЁТОМ ККМ (ОФД / ККМ)",
    L_CHANNELS, "БАЙЛАНЫС АРНАЛАРЫ", "КАНАЛЫ СВЯЗИ",
    L_CH_UP, "бар", "есть",
    L_CH_DOWN, "жоқ", "нет",
    L_CH_LAST, "соңғы алмасу", "последний обмен",
    L_SET_ASIDE, "Талдаудан кейін кезектен алынды", "Снят с очереди после анализа",
    L_RESULT_CODE, "ФДО жауабының коды", "Код ответа ОФД",
    L_DOC_NO, "Құжат №", "Документ №",
    L_JOURNAL_NO, "Журналдағы №", "№ в журнале",
    E_NOT_REFUSED, "Кезек басында ФДО қабылдамаған құжат жоқ", "В начале очереди нет документа, отклонённого ОФД",
    E_NO_LINES, "Чекте тауар жоқ", "В чеке нет позиций",
    E_LINE, "Баға немесе саны қате", "Неверная цена или количество",
    E_TAX_GROUP, "Салық тобы белгісіз", "Неизвестная налоговая группа",
    E_PAY_SHORT, "Төлем сомасы жеткіліксіз", "Сумма оплаты меньше итога",
    E_PAY_OVER, "Қолма-қолсыз төлем сомасы артық", "Безналичная оплата больше итога",
    E_PAY_DUP, "Бұл төлем түрі бұрын енгізілген", "Этот вид оплаты уже введён",
    E_TENDERED, "Берілген сома төлемнен аз", "Получено меньше суммы оплаты",
    E_IIN, "ЖСН/БСН қате: бақылау саны сәйкес емес", "Неверный ИИН/БИН: не сходится контрольная цифра",
    E_GTIN, "GTIN коды қате", "Неверный код GTIN",
    E_NTIN, "NTIN коды қате", "Неверный код NTIN",
    E_MARK_REQUIRED, "Таңбалау кодын сканерлеңіз", "Отсканируйте код маркировки",
    E_MARK, "Таңбалау коды қате", "Неверный код маркировки",
    E_PARENT_REQUIRED, "Қайтару үшін бастапқы чек керек", "Для возврата нужен исходный чек",
    E_PARENT_NOT_ALLOWED, "Бастапқы чек тек қайтаруға", "Исходный чек указывается только при возврате",
    E_RETURN_OVER, "Қайтару сомасы бастапқы чектен артық", "Сумма возврата больше исходного чека",
    E_AMOUNT, "Сома қате", "Неверная сумма",
    E_MODIFIER, "Жеңілдік немесе үстеме қате", "Неверная скидка или наценка",
    E_EMAIL, "Электрондық пошта қате", "Неверный адрес эл. почты",
    E_PHONE, "Телефон нөмірі қате", "Неверный номер телефона",
    E_INDEX, "Мұндай жол жоқ", "Нет такой позиции",
    E_TOO_MANY, "Тым көп жол", "Слишком много позиций",
    E_NAME, "Тауар атауы қате", "Неверное наименование",
    E_SECTION, "Бөлім нөмірі қате", "Неверный номер секции",
    E_UNIT, "Өлшем бірлігі қате", "Неверная единица измерения",
    E_SEALED, "Чек фискалданған, өзгертуге болмайды", "Чек фискализирован, изменять нельзя",
    E_PAY_KIND, "Төлем түрі қате", "Неверный вид оплаты",
    E_OP, "Операция түрі қате", "Неверный вид операции",
    E_CASHIER, "Кассир коды қате", "Неверный код кассира",
    E_DECODE, "Құжат жазбасы бүлінген", "Запись документа повреждена",
    E_PAY_FIELDS, "Карта/QR төлем деректері қате", "Неверные данные оплаты картой/QR",
    E_SAME_TAXPAYER, "Сатып алушының ЖСН/БСН-і сатушыныкімен бірдей",
        "ИИН/БИН покупателя совпадает с ИИН/БИН продавца",
    E_QTY_WHOLE, "Дана тауардың саны бүтін болуы керек", "Штучный товар: количество должно быть целым",
    E_LINE_SUM, "Баға немесе позиция сомасы тым үлкен", "Слишком большая цена или сумма позиции",
    E_SCAN, "Штрихкод танылмады: қайта сканерлеңіз", "Штрихкод не распознан: сканируйте ещё раз",
    E_MARK_GOODS, "Таңбалау коды басқа тауардікі", "Код маркировки другого товара",
)

_tables = [_T]  # flat tables: this one and those of add_table()
_extra = {}  # code -> (kk, ru) registered one by one with add()


def _pair(code):
    # (kk, ru) for a code, or None
    if not isinstance(code, int):
        return None
    for t in _tables:
        try:
            i = t.index(code)  # the strings never equal an int code
        except ValueError:
            continue
        return t[i + 1], t[i + 2]
    return _extra.get(code)


def _check(code, kk, ru):
    old = _pair(code)
    if old is not None and old != (kk, ru):
        raise ValueError(code)
    return old


def add(code, kk, ru):
    # register a string pair (other modules, at import); a code is set once
    if _check(code, kk, ru) is None:
        _extra[code] = (kk, ru)


def add_table(table, step):
    # register a flat table of other module: code, kk, ru[, more] every
    # `step` items (kept as it is, not copied); a code is set once
    for i in range(0, len(table), step):
        _check(table[i], table[i + 1], table[i + 2])
    _tables.append(table)


def text(code, lang):
    # the string for a code in "kk" or "ru" (any other lang -> Russian);
    # an unknown code gives "#<code>" so a message is never lost
    k = 1 if lang == "kk" else 2
    if isinstance(code, int):
        for t in _tables:
            try:
                i = t.index(code)
            except ValueError:
                continue
            return t[i + k]
    pair = _extra.get(code)
    if pair is None:
        return "#%d" % code
    return pair[k - 1]


def has(code):
    return _pair(code) is not None
