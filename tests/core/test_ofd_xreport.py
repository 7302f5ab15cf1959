# The OFD's X report (KZ-31.4) as the register prints it: ofd.xreport.complete
# fills in what proto2 leaves out (absent optional and empty repeated fields)
# so that kkm.layout.report_lines can print any X the codec accepts.
from kkm import layout
from kkm.counters import date_time
from ofd import codec
from ofd import schema as S
from ofd.xreport import complete

M0 = {"bills": 0, "coins": 0}


def _decoded(zx):
    # the ReportResponse as it arrives: encoded, then decoded (proto2)
    b = codec.encode(S.ReportResponse, {"report": S.REPORT_X, "zx_report": zx})
    return codec.decode(S.ReportResponse, b)["zx_report"]


def test_kz_31_4_minimal_ofd_x_prints():
    zx = _decoded({"date_time": date_time(1700000000), "shift_number": 3, "cash_sum": {"bills": 5, "coins": 0},
                   "revenue": {"sum": M0, "is_negative": False}})
    lines = layout.report_lines(complete(zx), "ru")
    assert any("5.00" in t for st, t in lines)


def test_kz_31_4_ofd_x_tax_and_section_without_operations_prints():
    # a tax or a section the OFD lists with no operations: the repeated
    # field is absent after decoding; the report is still printed (the
    # register used to fail on it and printed no X at all)
    zx = _decoded({"date_time": date_time(1700000000), "shift_number": 3, "cash_sum": {"bills": 5, "coins": 0},
                   "revenue": {"sum": M0, "is_negative": False},
                   "taxes": [{"tax_type": 100, "percent": 12000}],
                   "sections": [{"section_code": "1"}]})
    assert "operations" not in zx["taxes"][0] and "operations" not in zx["sections"][0]
    r = complete(zx)
    assert r["taxes"][0]["operations"] == [] and r["sections"][0]["operations"] == []
    lines = layout.report_lines(r, "kk")
    assert any("12" in t for st, t in lines)  # the VAT rate's heading
