# Locks in one place: which operation may run now, and if not, why.
#
# A lock has a code (an int, stable: it is journalled and shown), a message
# in Kazakh and in Russian, and a note on what clears it. Some locks are
# flags the register raises and lowers (self-test, printer, OFD orders; the
# clock behind the last document, looked at on every check); the two time
# limits are computed from the clock on every check:
#   shift over 24 h from the completion of its first payment document (KZ-14)
#   oldest unacknowledged offline document over 72 h old (KZ-29.6)
# The same table holds the register's other refusals (passwords, settings,
# clock, cash) so that every "no" the cashier sees has one code and two texts.

from compat import const, is_int
from kkm import texts

# operations the register asks about
OP_PAYMENT = const(1)  # sale, return, purchase, purchase return
OP_PLACEMENT = const(2)  # cash deposit / withdrawal (KZ-27)
OP_X = const(3)  # X report, cashier and section reports
OP_Z = const(4)  # shift close
OP_SETTINGS = const(5)  # programming mode
OP_CLOCK = const(6)  # clock setting

# lock codes
NOT_FISCALISED = const(301)
SELFTEST_HW = const(302)  # KZ-3.1
SELFTEST_SW = const(303)  # KZ-3.2
ACC_INTEGRITY = const(304)  # KZ-3.3
ACC_FULL = const(305)  # KZ-ND-35(3): no room for unacknowledged documents
ACC_FAULT = const(306)  # KZ-ND-35(3): accumulator fault
NO_PAPER = const(307)  # KZ-6
PRINTER_FAULT = const(308)  # KZ-6
SHIFT_24H = const(309)  # KZ-14, R-29
OFFLINE_72H = const(310)  # KZ-29.6
OFD_SUSPEND = const(311)  # KZ-16
FIRMWARE = const(312)  # KZ-43.1
DATA_MISMATCH = const(313)  # KZ-76.4
CLOCK_BAD = const(314)  # KZ-42, KZ-ND-32: clock earlier than the last document
Z_AREA_FULL = const(315)  # KZ-ND-35(3): no free Z slot for the next shift close
INVALID_TOKEN = const(316)  # PROTOCOL 12, code 2: the OFD refused the token (KZ-20, KZ-41)
CLOCK_LOST = const(317)  # KZ-41, KZ-42: the RTC lost its time (power): the time must be set

# other refusals (not locks: they concern one request)
E_BAD_PASSWORD = const(401)  # KZ-1, KZ-ND-35(1)
E_LOCKED_OUT = const(402)
E_PASSWORD_RULE = const(403)  # KZ-1: at least 4 digits
E_NO_RIGHT = const(404)
E_NOT_LOGGED_IN = const(405)
E_UNKNOWN_USER = const(406)
# E_BAD_PASSWORD and E_LOCKED_OUT with their detail (message()): attempts
# left, seconds to wait
W_TRIES_LEFT = const(407)
W_RETRY_IN = const(408)
E_SHIFT_OPEN = const(501)  # KZ-41, KZ-ND-30
E_CLOCK_BACK = const(502)  # KZ-42
E_CLOCK_CONFIRM = const(503)  # KZ-ND-32
E_BAD_RNM = const(504)  # KZ-40.2
E_BAD_BIN = const(505)
E_BAD_SETTING = const(506)
E_ALREADY_FISCALISED = const(507)
E_CLOCK_RANGE = const(508)  # a time the journal cannot keep (after 2106-02-07)
E_SETTINGS_SIZE = const(509)  # the settings or the users would not fit one journal record
E_NOT_ENOUGH_CASH = const(601)
E_NO_RECEIPT = const(602)
E_RECEIPT_OPEN = const(603)
E_NO_SHIFT = const(604)
# notices for the cashier (not refusals)
N_OFFLINE = const(607)  # KZ-29.2
N_RESTORED = const(608)  # power cut: the receipt being fiscalised was completed
N_DROPPED = const(609)  # power cut: the open receipt was not fiscalised, it is gone
N_Z_LOW = const(610)  # KZ-ND-36: Z_LOW or fewer Z slots left
N_REPRINT = const(611)  # power cut after fiscalisation: print a copy
N_OFD_BLOCKED = const(612)  # KZ-16, KZ-29.2: offline because the OFD blocked the register (result 15)

Z_LOW = const(30)  # KZ-ND-36: Z slots left from which the cashier is warned
SECONDS_24H = const(86400)
SECONDS_72H = const(259200)

# code, kk, ru, what clears it: one flat tuple of constants (see kkm.texts)
_TEXTS = (
    NOT_FISCALISED, "БКМ фискалдандырылмаған", "ККМ не фискализирована", "fiscalisation (KZ-40)",
    SELFTEST_HW, "Құрылғы тестісі өтпеді", "Тест оборудования не пройден", "repair, then a passing self-test",
    SELFTEST_SW, "Бағдарлама тестісі өтпеді", "Тест программы не пройден", "repair, then a passing self-test",
    ACC_INTEGRITY, "Жинақтауыштағы деректер бүтін емес: сервис инженерін шақырыңыз",
        "Нарушена целостность данных накопителя: вызовите сервисного инженера",
        "service reads out the journal; the accumulator check passes",
    ACC_FULL, "Жинақтауыш толы: құжаттарды ОФД-ға жіберіңіз", "Накопитель заполнен: отправьте документы в ОФД",
        "OFD acknowledges queued documents",
    ACC_FAULT, "Жинақтауыш ақаулы", "Неисправность накопителя", "service repairs the accumulator",
    NO_PAPER, "Қағаз жоқ", "Нет бумаги", "paper loaded, printer reports ok",
    PRINTER_FAULT, "Принтер ақаулы", "Неисправность принтера", "printer reports ok",
    SHIFT_24H, "Ауысым 24 сағаттан асты: Z-есепті алыңыз", "Смена превысила 24 часа: снимите Z-отчёт",
        "shift close (Z)",
    OFFLINE_72H, "Автономды режим 72 сағаттан асты", "Автономный режим более 72 часов",
        "OFD acknowledges the oldest offline document",
    OFD_SUSPEND, "Мемлекеттік кіріс органының талабымен жұмыс тоқтатылды",
        "Работа приостановлена по требованию органов госдоходов", "OFD order to resume",
    FIRMWARE, "Бағдарлама тұтастығы бұзылған", "Нарушена целостность программы", "service installs verified firmware",
    DATA_MISMATCH, "Салық төлеуші немесе БКМ деректері сәйкес емес", "Данные налогоплательщика или ККМ не совпадают",
        "corrected registration data accepted by the OFD",
    CLOCK_BAD, "Күн мен уақыт соңғы құжаттан ерте: ауысымды жабып, уақытты орнатыңыз",
        "Дата и время раньше последнего документа: закройте смену и установите время",
        "the clock no longer behind the last document (set after the Z, or the RTC itself)",
    CLOCK_LOST, "Сағат тоқтап қалған: күн мен уақытты орнатыңыз",
        "Часы останавливались: установите дату и время", "the date and time set (after the Z when a shift is open)",
    Z_AREA_FULL, "Z-есептерге орын қалмады", "Нет места для Z-отчётов", "service replaces the accumulator",
    INVALID_TOKEN, "ОФД токенді қабылдамады: дұрыс токенді енгізіңіз",
        "ОФД не принял токен: введите правильный токен", "a token entered in the settings (KZ-41)",
    E_BAD_PASSWORD, "Құпиясөз қате", "Неверный пароль", "",
    E_LOCKED_OUT, "Қате әрекеттер көп: кейінірек көріңіз", "Много неверных попыток: повторите позже",
        "lockout time ends",
    W_TRIES_LEFT, "Құпиясөз қате: тағы %d әрекет қалды", "Неверный пароль: осталось попыток: %d", "",
    W_RETRY_IN, "Қате әрекеттер көп: %d секундтан кейін қайталаңыз",
        "Много неверных попыток: повторите через %d с", "lockout time ends",
    E_PASSWORD_RULE, "Құпиясөз кемінде 4 цифр", "Пароль не менее 4 цифр", "",
    E_NO_RIGHT, "Бұл әрекетке құқық жоқ", "Нет прав на эту операцию", "",
    E_NOT_LOGGED_IN, "Құпиясөзді енгізіңіз", "Введите пароль", "",
    E_UNKNOWN_USER, "Пайдаланушы табылмады", "Пользователь не найден", "",
    E_SHIFT_OPEN, "Алдымен ауысымды жабыңыз", "Сначала закройте смену", "shift close (Z)",
    E_CLOCK_BACK, "Уақыт соңғы құжаттан ерте болмауы керек", "Время не может быть раньше последнего документа", "",
    E_CLOCK_CONFIRM, "Күнді қайта енгізіңіз", "Повторите ввод даты", "",
    E_BAD_RNM, "РНМ кемінде 12 таңба", "РНМ не менее 12 символов", "",
    E_BAD_BIN, "ЖСН/БСН қате", "Неверный ИИН/БИН", "",
    E_BAD_SETTING, "Параметр қате", "Неверный параметр", "",
    E_ALREADY_FISCALISED, "БКМ фискалдандырылған", "ККМ уже фискализирована", "",
    E_CLOCK_RANGE, "Күн мен уақыт қате: 07.02.2106 күнінен кешікпеуі керек",
        "Неверные дата и время: не позднее 07.02.2106", "",
    E_SETTINGS_SIZE, "Баптаулар немесе пайдаланушылар 2 КБ-қа сыймайды: қысқартыңыз",
        "Настройки или пользователи не помещаются в 2 КБ: сократите", "",
    E_NOT_ENOUGH_CASH, "Кассада қолма-қол ақша жеткіліксіз", "Недостаточно наличных в кассе", "",
    E_NO_RECEIPT, "Ашық чек жоқ", "Нет открытого чека", "",
    E_RECEIPT_OPEN, "Алдымен ашық чекті аяқтаңыз", "Сначала завершите открытый чек", "",
    E_NO_SHIFT, "Ауысым ашылмаған", "Смена не открыта", "",
    N_OFFLINE, "ОФД серверімен байланыс жоқ: БКМ автономды режимге өтті",
        "Нет связи с сервером ОФД: ККМ перешла в автономный режим", "",
    N_RESTORED, "Электр өшкенде ресімделген чек қалпына келтірілді",
        "Чек, оформлявшийся при отключении питания, восстановлен", "",
    N_DROPPED, "Электр өшкенде ашық чек жойылды: қайта енгізіңіз",
        "Открытый чек потерян при отключении питания: введите заново", "",
    N_Z_LOW, "Z-есептерге орын аз қалды", "Осталось мало места для Z-отчётов", "",
    N_REPRINT, "Соңғы құжаттың көшірмесін басыңыз", "Напечатайте копию последнего документа", "",
    N_OFD_BLOCKED, "ОФД БКМ жұмысын бұғаттады: чек автономды режимде берілді",
        "ОФД заблокировал работу ККМ: чек выдан в автономном режиме", "",
)


texts.add_table(_TEXTS, 4)


def message(code, lang, detail=None):
    # the cashier's message for a lock or refusal code (kkm.texts); with
    # the refusal's detail a wrong password says how many attempts are
    # left and a lockout how many seconds to wait (kkm.auth)
    if is_int(detail):
        if code == E_BAD_PASSWORD:
            return texts.text(W_TRIES_LEFT, lang) % detail
        if code == E_LOCKED_OUT:
            return texts.text(W_RETRY_IN, lang) % detail
    return texts.text(code, lang)


def clears(code):
    try:
        i = _TEXTS.index(code)
    except ValueError:
        return ""
    return _TEXTS[i + 3]


class Refused(Exception):
    # args: (code, detail)
    pass


class Locked(Refused):
    # args: (first code, sorted list of every active lock code)
    pass


# which flag locks leave which operations possible: Z and X must stay
# possible under the 24 h, 72 h, accumulator-full and OFD-order locks
# (KZ-14 note, KZ-29.7), so the shift can always be closed; under the clock
# lock too, as the clock may be set only after the Z (KZ-41)
_PAY_ONLY = (ACC_FULL, OFD_SUSPEND, DATA_MISMATCH, SHIFT_24H, OFFLINE_72H, INVALID_TOKEN, CLOCK_BAD, CLOCK_LOST)
_KEEPS_SETTINGS = _PAY_ONLY + (NOT_FISCALISED, NO_PAPER, PRINTER_FAULT, Z_AREA_FULL)


def blocks(code, op):
    # does lock `code` forbid operation `op`?
    if op == OP_PAYMENT or op == OP_PLACEMENT:
        return True
    if op == OP_X or op == OP_Z:
        if code in _PAY_ONLY:
            return False
        if code == Z_AREA_FULL:
            return op == OP_Z
        return True
    # programming and the clock: the service engineer must be able to
    # repair settings and the date while the register is otherwise locked
    if op == OP_CLOCK and code == CLOCK_BAD:
        return False
    if code in _KEEPS_SETTINGS:
        return False
    if code == FIRMWARE:
        return True
    # self-test and accumulator failures leave programming open for service
    return False


def acc_full(acc, lens, now):
    # KZ-ND-35(3), KZ-8: ACC_FULL engages before the accumulator is full. A
    # payment document or placement whose records (payload lengths `lens`:
    # the document and its fiscal-sign record) would leave less than the
    # reserve free is refused; the reserve (acc.reserve, acc.doc_reserve,
    # sized by the register) keeps room for the shift close and for the
    # OFD's acknowledgement of every queued document. It clears by itself
    # once acknowledgements and the retention window let sectors be reused.
    return not acc.can_append(lens, now, 1)


class Locks:
    def __init__(self):
        self.flags = {}  # code -> detail (flag locks only)

    def set(self, code, detail=None):
        self.flags[code] = detail

    def clear(self, code):
        if code in self.flags:
            del self.flags[code]

    def is_set(self, code):
        return code in self.flags

    def active(self, now, shift_start=None, oldest_offline=None):
        # every lock in force now, sorted by code
        codes = list(self.flags)
        if shift_start is not None and now - shift_start > SECONDS_24H:
            codes.append(SHIFT_24H)
        if oldest_offline is not None and now - oldest_offline > SECONDS_72H:
            codes.append(OFFLINE_72H)
        codes.sort()
        return codes

    def blocking(self, op, now, shift_start=None, oldest_offline=None):
        return [c for c in self.active(now, shift_start, oldest_offline) if blocks(c, op)]

    def require(self, op, now, shift_start=None, oldest_offline=None):
        b = self.blocking(op, now, shift_start, oldest_offline)
        if b:
            raise Locked(b[0], b)

    def shift_seconds_left(self, now, shift_start):
        # for the cashier's display: time left before the 24 h lock
        if shift_start is None:
            return SECONDS_24H
        return max(0, SECONDS_24H - (now - shift_start))
