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

_T = {
    E_NO_LINES: ("Чекте тауар жоқ", "В чеке нет позиций"),
    E_LINE: ("Баға немесе саны қате", "Неверная цена или количество"),
    E_TAX_GROUP: ("Салық тобы белгісіз", "Неизвестная налоговая группа"),
    E_PAY_SHORT: ("Төлем сомасы жеткіліксіз", "Сумма оплаты меньше итога"),
    E_PAY_OVER: ("Қолма-қолсыз төлем сомасы артық", "Безналичная оплата больше итога"),
    E_PAY_DUP: ("Бұл төлем түрі бұрын енгізілген", "Этот вид оплаты уже введён"),
    E_TENDERED: ("Берілген сома төлемнен аз", "Получено меньше суммы оплаты"),
    E_IIN: ("ЖСН/БСН қате: бақылау саны сәйкес емес", "Неверный ИИН/БИН: не сходится контрольная цифра"),
    E_GTIN: ("GTIN коды қате", "Неверный код GTIN"),
    E_NTIN: ("NTIN коды қате", "Неверный код NTIN"),
    E_MARK_REQUIRED: ("Таңбалау кодын сканерлеңіз", "Отсканируйте код маркировки"),
    E_MARK: ("Таңбалау коды қате", "Неверный код маркировки"),
    E_PARENT_REQUIRED: ("Қайтару үшін бастапқы чек керек", "Для возврата нужен исходный чек"),
    E_PARENT_NOT_ALLOWED: ("Бастапқы чек тек қайтаруға", "Исходный чек указывается только при возврате"),
    E_RETURN_OVER: ("Қайтару сомасы бастапқы чектен артық", "Сумма возврата больше исходного чека"),
    E_AMOUNT: ("Сома қате", "Неверная сумма"),
    E_MODIFIER: ("Жеңілдік немесе үстеме қате", "Неверная скидка или наценка"),
    E_EMAIL: ("Электрондық пошта қате", "Неверный адрес эл. почты"),
    E_PHONE: ("Телефон нөмірі қате", "Неверный номер телефона"),
    E_INDEX: ("Мұндай жол жоқ", "Нет такой позиции"),
    E_TOO_MANY: ("Тым көп жол", "Слишком много позиций"),
    E_NAME: ("Тауар атауы қате", "Неверное наименование"),
    E_SECTION: ("Бөлім нөмірі қате", "Неверный номер секции"),
    E_UNIT: ("Өлшем бірлігі қате", "Неверная единица измерения"),
    E_SEALED: ("Чек фискалданған, өзгертуге болмайды", "Чек фискализирован, изменять нельзя"),
    E_PAY_KIND: ("Төлем түрі қате", "Неверный вид оплаты"),
    E_OP: ("Операция түрі қате", "Неверный вид операции"),
    E_CASHIER: ("Кассир коды қате", "Неверный код кассира"),
    E_DECODE: ("Құжат жазбасы бүлінген", "Запись документа повреждена"),
    E_PAY_FIELDS: ("Карта/QR төлем деректері қате", "Неверные данные оплаты картой/QR"),
}


def add(code, kk, ru):
    # register a string pair (other modules, at import); a code is set once
    old = _T.get(code)
    if old is not None and old != (kk, ru):
        raise ValueError(code)
    _T[code] = (kk, ru)


def text(code, lang):
    # the string for a code in "kk" or "ru" (any other lang -> Russian);
    # an unknown code gives "#<code>" so a message is never lost
    pair = _T.get(code)
    if pair is None:
        return "#%d" % code
    return pair[0] if lang == "kk" else pair[1]


def has(code):
    return code in _T
