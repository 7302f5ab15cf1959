# The cashier UI's texts: both catalogues (Kazakh, Russian) complete, every
# screen line within 20 characters, every message of the register (locks,
# refusals, notices) and every what-to-do readable on the 20x4 and 21x8
# displays (wrapped at spaces, no word cut); the key legend (KZ-1, KZ-17,
# KZ-29.2).
from kkm import locks as L
from kkm import texts as T
from ui import keys as K
from ui import screen as S
from ui import texts as U

SIZES = ((20, 4), (21, 8))


def _both(code):
    kk = T.text(code, "kk")
    ru = T.text(code, "ru")
    assert kk and ru and not kk.startswith("#") and not ru.startswith("#"), code
    return kk, ru


def test_every_screen_text_exists_in_both_languages_and_fits_20_columns():
    codes = U.codes()
    assert len(codes) > 60
    for code in codes:
        for s in _both(code):
            if "%d" in s:
                s = s % 99999
            assert len(s) <= 20, (code, s)


def test_every_key_has_its_text_in_both_languages():
    for k in K.KEYS:
        if k in K.DIGITS and k != "0":
            continue
        kk = U.key_text(k, "kk")
        ru = U.key_text(k, "ru")
        assert kk != k and ru != k and kk != ru or k in ("X", "Z"), k


def _register_codes():
    # every code kkm registered a text for: refusals, locks, notices
    return [c for c in range(100, 700) if T.has(c)]


def test_every_message_of_the_register_reads_on_both_displays():
    # messages are shown wrapped at spaces over the body rows and scrolled
    # (UP/DOWN); none cuts a word, none takes more than six lines
    n = 0
    for code in _register_codes() + list(U.todo_codes()):
        texts = list(_both(code))
        for lang in ("kk", "ru"):
            t = U.todo(code, lang)
            if t:
                texts.append(t)
        for s in texts:
            for cols, rows in SIZES:
                lines = S.lines_of([s], cols)
                assert len(lines) <= 6, (code, s)
                for w in s.split():
                    assert len(w) <= cols, (code, w)
            n += 1
    assert n > 150


def test_every_lock_says_what_to_do_in_both_languages():
    # KZ-29.2, KZ-6, KZ-14, KZ-29.6: each lock has its action
    for code in (L.NOT_FISCALISED, L.SELFTEST_HW, L.SELFTEST_SW, L.ACC_INTEGRITY, L.ACC_FULL, L.ACC_FAULT,
                 L.NO_PAPER, L.PRINTER_FAULT, L.SHIFT_24H, L.OFFLINE_72H, L.OFD_SUSPEND, L.FIRMWARE,
                 L.DATA_MISMATCH, L.CLOCK_BAD, L.Z_AREA_FULL, L.INVALID_TOKEN, L.N_OFFLINE):
        kk = U.todo(code, "kk")
        ru = U.todo(code, "ru")
        assert kk and ru and kk != ru, code


def test_status_strip_fits_both_displays_in_every_state():
    states = [
        {"mode": "online", "queue": 0, "paper": "ok", "channel": "wifi"},
        {"mode": "offline", "queue": 999, "lock_in": 259200, "paper": "no_paper", "channel": "gsm"},
        {"mode": "offline", "queue": 12, "lock_in": 3599, "paper": "fault", "channel": None},
        {"mode": "server_blocked", "queue": 5, "paper": "ok", "channel": "wifi"},
        {"mode": "offline", "queue": 3, "lock_in": 0, "locked": True, "paper": "ok", "channel": "wifi"},
    ]
    for st in states:
        for lang in ("kk", "ru"):
            for cols, rows in SIZES:
                s = S.strip(st, lang, cols)
                assert len(s) <= cols, s
                assert s.split()[0] in ("Онлайн", "Автон", "БЛОК"), s


def test_status_strip_shows_the_72_hour_countdown_queue_paper_and_channel():
    st = {"mode": "offline", "queue": 3, "lock_in": 71 * 3600 + 59 * 60 + 30, "paper": "ok", "channel": "gsm"}
    assert S.strip(st, "ru", 20) == "Автон 71:59 [3] gsm"
    st["paper"] = "no_paper"
    assert S.strip(st, "kk", 30) == "Автон 71:59 Қағаз! [3] gsm"
    assert S.strip(st, "kk", 22) == "Автон 71:59 Қағаз! [3]"  # the channel gives way
    assert S.strip(st, "ru", 20) == "Автон 71:59 Бумага!"  # then the queue
    assert S.strip({"mode": "online", "queue": 0, "channel": "wifi"}, "kk", 20) == "Онлайн [0] wifi"
    assert S.strip({"mode": "blocked", "queue": 7, "channel": "wifi"}, "ru", 20) == "БЛОК [7] wifi"


def test_key_legend_lists_every_key_in_both_languages():
    for lang in ("kk", "ru"):
        lines = K.legend(lang, 32)
        assert len(lines) == len(K.KEYS) - 9
        for s in lines:
            assert len(s) <= 32
        text = "\n".join(lines)
        for k in K.KEYS:
            if k not in K.DIGITS[1:]:
                assert k in text or k == "0", k
    assert "Наличные" in "\n".join(K.legend("ru"))
    assert "Қолма-қол" in "\n".join(K.legend("kk"))


def test_terminal_map_reaches_every_key():
    for k in K.KEYS:
        assert K.from_terminal(K.terminal_char(k)) == k, k
