# Screen texts of the cashier UI in Kazakh and Russian, registered with
# kkm.texts (codes 700-799) so that ui and kkm look texts up one way:
# T.text(code, lang). Messages of locks and refusals are kkm's own
# (kkm.locks, kkm.texts: Register.lock_message); this module adds what the
# cashier is to do about each (todo). Every text of a screen line fits 20
# characters (tests/core/test_ui_texts.py).

from compat import const
from kkm import locks as L
from kkm import texts as T

# titles and prompts
U_USER = const(701)
U_PASSWORD = const(702)
U_LANG_KEY = const(703)  # the key that switches the language, in the other language
U_READY = const(704)
U_TOTAL = const(705)
U_DUE = const(706)
U_CHANGE = const(707)
U_QTY = const(708)
U_PRICE = const(710)
U_GOODS = const(712)
U_DISCOUNT = const(713)
U_MARKUP = const(714)
U_PAY_KEYS = const(715)
U_WAIT_OFD = const(716)
U_DONE = const(717)
U_OFFLINE_DOC = const(718)
U_DOC_NO = const(719)
U_RETURN = const(720)
U_RETURN_KEY = const(721)
U_RETURN_ALL = const(722)
U_RETURN_QTY = const(723)
U_DEPOSIT = const(724)
U_WITHDRAW = const(725)
U_AMOUNT = const(726)
U_X_REPORT = const(727)
U_Z_ASK = const(728)
U_Z_DONE = const(729)
U_CASHIER_REPORT = const(730)
U_SECTION_REPORT = const(731)
U_COPY = const(732)
U_MESSAGES = const(733)
U_NO_MESSAGES = const(734)
U_SETTINGS = const(735)
U_RECEIPT_LANG = const(736)
U_CLOCK = const(737)
U_CLOCK_FORMAT = const(738)
U_TOKEN = const(739)
U_ASIDE = const(741)
U_CONN_TEST = const(742)
U_SELF_TEST = const(743)
U_TEST_OK = const(744)
U_TEST_FAILED = const(745)
U_LOGOUT = const(746)
U_ABANDON = const(747)
U_TODO = const(748)
U_BACK = const(749)
U_SAVED = const(750)
U_BAD_ENTRY = const(751)
U_MARK = const(752)
U_PRINTED = const(753)
U_CONFIRM = const(754)
U_CATALOGUE = const(756)
U_STRICT = const(757)
U_SOFT = const(758)
U_FAULT = const(759)
U_REFUSED_DOC = const(760)
U_NONE = const(761)
U_CLOCK_AGAIN = const(762)
U_DONE_RETURN = const(764)
U_TESTING = const(765)
U_TOTAL_RETURN = const(766)
U_LEGEND = const(767)
U_ASK_NKT = const(768)  # a code not in the catalogue cache: the OFD is asked
# the status strip (ui.screen)
S_ONLINE = const(780)
S_OFFLINE = const(781)
S_BLOCKED = const(782)
S_NO_PAPER = const(783)
S_PRINTER = const(784)
# receipt languages (the setting "lang")
S_KK = const(785)
S_RU = const(786)
S_BOTH = const(787)

_T = (
    U_USER, "Пайдаланушы коды:", "Код пользователя:",
    U_PASSWORD, "Құпиясөз:", "Пароль:",
    U_LANG_KEY, "MENU: Русский", "MENU: Қазақша",
    U_READY, "Дайын", "Готов",
    U_TOTAL, "Жиыны", "Итого",
    U_DUE, "Төлеуге", "К оплате",
    U_CHANGE, "Қайтарым", "Сдача",
    U_QTY, "Саны", "Кол-во",
    U_PRICE, "Бағасы:", "Цена:",
    U_GOODS, "Тауар", "Товар",
    U_DISCOUNT, "Жеңілдік:", "Скидка:",
    U_MARKUP, "Үстеме:", "Наценка:",
    U_PAY_KEYS, "CASH CARD MOBILE", "CASH CARD MOBILE",
    U_WAIT_OFD, "ФДО жауабы: %d с", "Ответ ОФД: %d с",
    U_DONE, "Чек берілді", "Чек выдан",
    U_OFFLINE_DOC, "Автономды режим", "Автономный режим",
    U_DOC_NO, "Құжат №%d", "Документ №%d",
    U_RETURN, "Қайтару", "Возврат",
    U_RETURN_KEY, "Чек белгісі/нөмірі:", "Признак/номер чека:",
    U_RETURN_ALL, "ENT: бәрін", "ENT: всё",
    U_RETURN_QTY, "сан+QTY: жол", "кол+QTY: строка",
    U_DEPOSIT, "Кассаға енгізу", "Внесение",
    U_WITHDRAW, "Кассадан алу", "Изъятие",
    U_AMOUNT, "Сомасы:", "Сумма:",
    U_X_REPORT, "X-есеп", "X-отчёт",
    U_Z_ASK, "Ауысымды жабу?", "Закрыть смену?",
    U_Z_DONE, "Ауысым жабылды", "Смена закрыта",
    U_CASHIER_REPORT, "Кассирлер есебі", "Отчёт по кассирам",
    U_SECTION_REPORT, "Бөлімдер есебі", "Отчёт по секциям",
    U_COPY, "Чек көшірмесі", "Копия чека",
    U_MESSAGES, "Хабарламалар", "Сообщения",
    U_NO_MESSAGES, "Хабарлама жоқ", "Сообщений нет",
    U_SETTINGS, "Баптаулар", "Настройки",
    U_RECEIPT_LANG, "Чек тілі", "Язык чека",
    U_CLOCK, "Күн мен уақыт", "Дата и время",
    U_CLOCK_FORMAT, "ККААЖЖЖЖ ссмм", "ДДММГГГГ ччмм",
    U_TOKEN, "Токен", "Токен",
    U_ASIDE, "Кезектен алу", "Снять с очереди",
    U_CONN_TEST, "Байланыс тестісі", "Тест связи",
    U_SELF_TEST, "Журнал тестісі", "Тест журнала",
    U_TEST_OK, "Тест өтті", "Тест пройден",
    U_TEST_FAILED, "Тест өтпеді", "Тест не пройден",
    U_LOGOUT, "Шығу", "Выход",
    U_ABANDON, "Чекті жою?", "Отменить чек?",
    U_TODO, "Не істеу керек:", "Что делать:",
    U_BACK, "ESC: артқа", "ESC: назад",
    U_SAVED, "Сақталды", "Сохранено",
    U_BAD_ENTRY, "Енгізу қате", "Неверный ввод",
    U_MARK, "Таңба коды:", "Код маркировки:",
    U_PRINTED, "Басылды", "Напечатано",
    U_CONFIRM, "ENT: иә  ESC: жоқ", "ENT: да  ESC: нет",
    U_CATALOGUE, "Каталог", "Каталог",
    U_STRICT, "қатаң", "строго",
    U_SOFT, "жұмсақ", "мягко",
    U_FAULT, "Ішкі қате", "Внутренняя ошибка",
    U_REFUSED_DOC, "ФДО қабылдамады", "ОФД отклонил",
    U_NONE, "жоқ", "нет",
    U_CLOCK_AGAIN, "Қайта енгізіңіз", "Введите ещё раз",
    U_DONE_RETURN, "Қайтару берілді", "Возврат выдан",
    U_TESTING, "Тексеру...", "Проверка...",
    U_TOTAL_RETURN, "Қайтаруға", "К возврату",
    U_LEGEND, "Пернелер", "Клавиши",
    U_ASK_NKT, "ФДО-дан сұралуда...", "Запрос в ОФД...",
    S_ONLINE, "Онлайн", "Онлайн",
    S_OFFLINE, "Автон", "Автон",
    S_BLOCKED, "БЛОК", "БЛОК",
    S_NO_PAPER, "Қағаз!", "Бумага!",
    S_PRINTER, "Принтер!", "Принтер!",
    S_KK, "Қазақша", "Казахский",
    S_RU, "Орысша", "Русский",
    S_BOTH, "Қаз+Орыс", "Каз+Рус",
)
T.add_table(_T, 3)

# what the cashier is to do about a lock or a notice (KZ-29.2, KZ-17):
# code, kk, ru
_TODO = (
    L.NOT_FISCALISED, "Сервис инженерін шақырыңыз: БКМ фискалдануы керек",
        "Вызовите сервисного инженера: ККМ нужно фискализировать",
    L.SELFTEST_HW, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.SELFTEST_SW, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.ACC_INTEGRITY, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.ACC_FULL, "ФДО байланысын тексеріңіз; Z-есеп алуға болады",
        "Проверьте связь с ОФД; Z-отчёт снять можно",
    L.ACC_FAULT, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.NO_PAPER, "Қағаз салып, қақпағын жабыңыз", "Вставьте бумагу и закройте крышку",
    L.PRINTER_FAULT, "Принтерді тексеріңіз", "Проверьте принтер",
    L.SHIFT_24H, "Z пернесін басыңыз", "Нажмите Z",
    L.OFFLINE_72H, "ФДО байланысын қалпына келтіріңіз; Z-есеп алуға болады",
        "Восстановите связь с ОФД; Z-отчёт снять можно",
    L.OFD_SUSPEND, "ФДО-ға хабарласыңыз; Z-есеп алуға болады", "Обратитесь в ОФД; Z-отчёт снять можно",
    L.FIRMWARE, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.DATA_MISMATCH, "Тіркеу деректерін ФДО-мен салыстырыңыз", "Сверьте регистрационные данные с ОФД",
    L.CLOCK_BAD, "Z-есеп алып, содан соң уақытты орнатыңыз", "Снимите Z-отчёт, затем установите время",
    L.Z_AREA_FULL, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.CLOCK_LOST, "Әкімші: MENU > Баптаулар > Күн мен уақыт (ауысым ашық болса, алдымен Z)",
        "Администратор: MENU > Настройки > Дата и время (при открытой смене сначала Z)",
    L.INVALID_TOKEN, "Әкімші: MENU > Баптаулар > Токен", "Администратор: MENU > Настройки > Токен",
    L.N_OFFLINE, "Чектер байланыс қалпына келгенде жіберіледі",
        "Чеки будут отправлены, когда связь восстановится",
    L.N_OFD_BLOCKED, "ФДО-ға хабарласыңыз", "Обратитесь в ОФД",
    L.N_REPRINT, "COPY пернесін басыңыз", "Нажмите COPY",
    L.N_DROPPED, "Чекті қайта енгізіңіз", "Введите чек заново",
    L.N_Z_LOW, "Сервис инженерін шақырыңыз", "Вызовите сервисного инженера",
    L.E_SHIFT_OPEN, "Z пернесін басыңыз", "Нажмите Z",
)

# what each key does: key name, kk, ru (the legend, ui.keys)
_KEYS = (
    "0", "Сандар", "Цифры",
    "00", "Екі нөл", "Два нуля",
    ".", "Нүкте", "Точка",
    "CLR", "Енгізуді өшіру", "Очистить ввод",
    "ESC", "Артқа, болдырмау", "Назад, отмена",
    "ENT", "Енгізу, растау", "Ввод, подтвердить",
    "MENU", "Мәзір, тіл", "Меню, язык",
    "UP", "Жоғары", "Вверх",
    "DOWN", "Төмен", "Вниз",
    "QTY", "Саны / салмағы", "Количество / вес",
    "PLU", "Тауар коды", "Код товара",
    "PRICE", "Еркін баға", "Свободная цена",
    "PAY", "Жиыны, төлем", "Итог, оплата",
    "CASH", "Қолма-қол", "Наличные",
    "CARD", "Банк картасы", "Банковская карта",
    "MOBILE", "Мобильді / QR", "Мобильный / QR",
    "DISC", "Жеңілдік, үстеме", "Скидка, наценка",
    "X", "X-есеп", "X-отчёт",
    "Z", "Z-есеп", "Z-отчёт",
    "RET", "Қайтару", "Возврат",
    "COPY", "Көшірме", "Копия",
    "FEED", "Қағаз беру", "Протяжка бумаги",
)


def _find(table, code, lang):
    try:
        i = table.index(code)
    except ValueError:
        return None
    return table[i + (1 if lang == "kk" else 2)]


def todo(code, lang):
    # what to do about a lock or notice, or None
    return _find(_TODO, code, lang)


def key_text(key, lang):
    return _find(_KEYS, key, lang) or key


def codes():
    # every screen text code of this module (the catalogue test)
    return [_T[i] for i in range(0, len(_T), 3)]


def todo_codes():
    return [_TODO[i] for i in range(0, len(_TODO), 3)]
