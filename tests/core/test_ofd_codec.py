# Core tests of the protocol 2.0.3 codec (ofd.codec, ofd.schema, ofd.money).
# Requirement: KZ-4 (data exchange with the OFD by the published protocol).

import ofd
from ofd import codec, schema

PE = ofd.ProtocolError


def _dt(y, mo, d, h, mi, s):
    return {"date": {"year": y, "month": mo, "day": d}, "time": {"hour": h, "minute": mi, "second": s}}


def _m(bills, coins=0):
    return {"bills": bills, "coins": coins}


def _ticket():
    return {
        "command": schema.COMMAND_TICKET,
        "ticket": {
            "operation": schema.OPERATION_SELL,
            "date_time": _dt(2026, 3, 14, 9, 5, 0),
            "operator": {"code": 7, "name": "Кассир 1"},
            "domain": {"type": schema.DOMAIN_TRADING},
            "items": [
                {"type": schema.ITEM_TYPE_COMMODITY, "commodity": {
                    "name": "Хлеб", "section_code": "1", "quantity": 2000,
                    "price": _m(150, 50), "sum": _m(301),
                    "taxes": [{"tax_type": 100, "taxation_type": 101, "percent": 12000,
                               "sum": _m(32, 25), "is_in_total_sum": True}],
                    "measure_unit_code": "796"}},
                {"type": schema.ITEM_TYPE_DISCOUNT, "discount": {"name": "Скидка", "sum": _m(1)}},
            ],
            "payments": [{"type": schema.PAYMENT_CASH, "sum": _m(300)}],
            "amounts": {"total": _m(300), "taken": _m(500), "change": _m(200)},
            "fr_shift_number": 12,
            "shift_document_number": 3,
        },
        "service": {
            "reg_info": {"kkm": {"fns_kkm_id": "010101234567", "serial_number": "KKM-0001", "kkm_id": "203539"}},
            "security_stats": {"geo_position": {"latitude": -43250000, "longitude": 76950000, "source": "manual"}},
        },
    }


# Cross-checked once with Google protobuf (SerializeToString of the same message).
GOLDEN_TICKET = bytes.fromhex(
    "080112a701080212110a0708ea0f1003180e12060809100518001a120807120ed09ad0b0d181d181d0b8d180"
    "2031220208002a38080112341208d0a5d0bbd0b5d0b11a013120d00f2a050896011032320508ad0210003a0f"
    "0864106518e05d22040820101928016a033739362a18080532140a0cd0a1d0bad0b8d0b4d0bad0b012040801"
    "100032090800120508ac02100042150a0508ac021000120508f40310001a0508c8011000700c780332401a1a"
    "0a1808b09db0ebffffffffff0110f0d3d8241a066d616e75616c62220a201a0c303130313031323334353637"
    "22084b4b4d2d303030312a06323033353339"
)


def _raises(fn, *args):
    try:
        fn(*args)
    except PE as e:
        return e.args
    raise AssertionError("no ProtocolError")


def test_kz_4_ticket_request_golden_bytes():
    assert codec.encode(schema.Request, _ticket()) == GOLDEN_TICKET


def test_kz_4_ticket_request_decodes_back():
    assert codec.decode(schema.Request, GOLDEN_TICKET) == _ticket()


def test_message_type_by_dotted_name():
    c = {"section_code": "2", "quantity": 1000, "price": _m(5), "sum": _m(5)}
    b1 = codec.encode("TicketRequest.Item.Commodity", c)
    assert b1 == codec.encode(schema.TicketRequest_Item_Commodity, c)
    assert codec.decode("TicketRequest.Item.Commodity", b1) == c
    assert _raises(codec.encode, "NoSuchMessage", {})[0] == "unknown message type"
    assert _raises(codec.decode, 9999, b"")[0] == "unknown message type"


def test_encoding_is_in_field_number_order_not_dict_order():
    a = {"coins": 5, "bills": 1}
    b = {"bills": 1, "coins": 5}
    assert codec.encode(schema.Money, a) == codec.encode(schema.Money, b) == bytes([0x08, 1, 0x10, 5])


def test_required_zero_values_are_sent():
    # proto2: coins = 0 and command = COMMAND_SYSTEM (0) must appear on the wire
    assert codec.encode(schema.Money, _m(0, 0)) == bytes([0x08, 0, 0x10, 0])
    assert codec.encode(schema.Request, {"command": 0}) == bytes([0x08, 0])


def test_none_means_absent():
    assert codec.encode(schema.Operator, {"code": 3, "name": None}) == bytes([0x08, 3])


def test_missing_required_on_encode():
    assert _raises(codec.encode, schema.Money, {"bills": 1}) == ("missing required field", "coins")
    t = _ticket()
    del t["ticket"]["amounts"]
    assert _raises(codec.encode, schema.Request, t) == ("missing required field", "amounts")


def test_missing_required_on_decode():
    # Money with bills only
    assert _raises(codec.decode, schema.Money, bytes([0x08, 1])) == ("missing required field", "coins")
    # Response without result
    assert _raises(codec.decode, schema.Response, bytes([0x08, 1])) == ("missing required field", "result")
    # nested: Result without result_code inside a Response
    assert _raises(codec.decode, schema.Response, bytes([0x08, 1, 0x12, 0])) == ("missing required field", "result_code")


def test_unknown_fields_are_skipped_on_decode():
    base = codec.encode(schema.Money, _m(12, 34))
    extra = (
        bytes([0x18, 0xAC, 0x02])  # field 3 varint
        + bytes([0x21]) + bytes(8)  # field 4 fixed64
        + bytes([0x2A, 3]) + b"abc"  # field 5 length-delimited
        + bytes([0x35, 1, 2, 3, 4])  # field 6 fixed32
        + bytes([0xF8, 0x07, 1])  # field 127 varint (two-byte key)
    )
    assert codec.decode(schema.Money, extra + base + extra) == _m(12, 34)


def test_unknown_key_on_encode_is_refused():
    assert _raises(codec.encode, schema.Money, {"bills": 1, "coins": 2, "cents": 3}) == ("unknown field", "cents")


def test_truncated_inputs():
    # Protobuf has no end marker: a cut at a top-level field boundary is a
    # valid shorter message (the frame header carries the real length).
    # Every other cut must raise.
    ok = []
    for n in range(1, len(GOLDEN_TICKET)):
        try:
            codec.decode(schema.Request, GOLDEN_TICKET[:n])
            ok.append(n)
        except PE as e:
            assert e.args[0] in ("truncated", "missing required field"), e.args
    assert ok == [2, 172]


def test_length_longer_than_data():
    # string field with length 100 but 2 bytes present
    assert _raises(codec.decode, schema.Operator, bytes([0x08, 1, 0x12, 100, 0x41, 0x42]))[0] == "truncated"
    # huge length varint must not allocate
    big = bytes([0x08, 1, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
    assert _raises(codec.decode, schema.Operator, big)[0] == "truncated"


def test_bad_varint():
    assert _raises(codec.decode, schema.Money, bytes([0x08] + [0xFF] * 11))[0] == "bad varint"
    assert _raises(codec.decode, schema.Money, bytes([0x08, 0x80]))[0] == "truncated"


def test_wrong_wire_type_and_bad_keys():
    # bills (varint) sent as length-delimited
    assert _raises(codec.decode, schema.Money, bytes([0x0A, 1, 0]))[0] == "wrong wire type"
    # string sent as varint
    assert _raises(codec.decode, schema.Operator, bytes([0x08, 1, 0x10, 1]))[0] == "wrong wire type"
    # field number 0
    assert _raises(codec.decode, schema.Money, bytes([0x00, 1]))[0] == "bad field number"
    # group wire types are not accepted for unknown fields
    assert _raises(codec.decode, schema.Money, bytes([0x1B]))[0] == "bad wire type"


def test_packed_repeated_is_accepted():
    # AuthResponse.roles (repeated enum) packed: field 4, LEN, values 1 2 3
    data = bytes([0x08, 0, 0x22, 3, 1, 2, 3])
    assert codec.decode(schema.AuthResponse, data) == {"result": 0, "roles": [1, 2, 3]}
    # mixed unpacked and packed occurrences append in order
    data = bytes([0x08, 0, 0x20, 3, 0x22, 2, 1, 2])
    assert codec.decode(schema.AuthResponse, data)["roles"] == [3, 1, 2]
    # and it is encoded unpacked (proto2 default)
    assert codec.encode(schema.AuthResponse, {"result": 0, "roles": [1, 2]}) == bytes([0x08, 0, 0x20, 1, 0x20, 2])


def test_integer_ranges_on_encode():
    # uint32 is limited to 2147483647 by protocol section 1
    assert codec.encode(schema.Operator, {"code": 2147483647}) == bytes([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x07])
    assert _raises(codec.encode, schema.Operator, {"code": 2147483648}) == ("out of range", "code")
    assert _raises(codec.encode, schema.Operator, {"code": -1}) == ("out of range", "code")
    # uint64 up to 2**63 - 1
    top = codec.encode(schema.Money, {"bills": 9223372036854775807, "coins": 0})
    assert codec.decode(schema.Money, top)["bills"] == 9223372036854775807
    assert _raises(codec.encode, schema.Money, {"bills": 9223372036854775808, "coins": 0})[0] == "out of range"
    assert _raises(codec.encode, schema.Money, {"bills": "1", "coins": 0}) == ("not an integer", "bills")
    assert _raises(codec.encode, schema.Money, {"bills": True, "coins": 0}) == ("not an integer", "bills")


def test_negative_int32_is_a_ten_byte_varint():
    geo = {"latitude": -1, "longitude": 0}
    b = codec.encode(schema.ServiceRequest_SecurityStats_GeoPosition, geo)
    assert b == bytes([0x08] + [0xFF] * 9 + [0x01, 0x10, 0x00])
    assert codec.decode(schema.ServiceRequest_SecurityStats_GeoPosition, b) == geo
    low = {"latitude": -2147483648, "longitude": 2147483647}
    assert codec.decode(schema.ServiceRequest_SecurityStats_GeoPosition,
                        codec.encode(schema.ServiceRequest_SecurityStats_GeoPosition, low)) == low
    assert _raises(codec.encode, schema.ServiceRequest_SecurityStats_GeoPosition,
                   {"latitude": -2147483649, "longitude": 0})[0] == "out of range"


def test_int64_and_tenant_id_roundtrip():
    org = {"tenantId": -5, "title": "ЖШС «Дүкен»"}
    assert codec.decode(schema.OrgRegInfo, codec.encode(schema.OrgRegInfo, org)) == org


def test_enum_values_are_checked_on_encode():
    assert _raises(codec.encode, schema.Request, {"command": 9}) == ("bad enum value", "command")
    assert codec.encode(schema.Request, {"command": schema.COMMAND_RESERVED}) == bytes([0x08, 0x7F])


def test_types_checked_on_encode():
    assert _raises(codec.encode, schema.Operator, {"code": 1, "name": b"x"}) == ("not a str", "name")
    assert _raises(codec.encode, schema.TicketResponse, {"ticket_number": "1", "qr_code": "x"}) == ("not bytes", "qr_code")
    assert _raises(codec.encode, schema.ZXReport_Revenue, {"sum": _m(1), "is_negative": 1}) == ("not a bool", "is_negative")
    assert _raises(codec.encode, schema.DateTime, {"date": 5, "time": {}})[0] == "not a dict"
    assert _raises(codec.encode, schema.TicketRequest_Item_Commodity,
                   {"section_code": "1", "quantity": 1, "price": _m(1), "sum": _m(1),
                    "list_excise_stamp": "x"}) == ("not a list", "list_excise_stamp")


def test_bytes_and_bool_fields_roundtrip():
    r = {"ticket_number": "4228143549", "qr_code": b"http://consumer.test-oofd.kz?i=4228143549"}
    assert codec.decode(schema.TicketResponse, codec.encode(schema.TicketResponse, r)) == r
    rev = {"sum": _m(10, 5), "is_negative": True}
    assert codec.decode(schema.ZXReport_Revenue, codec.encode(schema.ZXReport_Revenue, rev)) == rev


def test_bad_utf8_string():
    assert _raises(codec.decode, schema.Operator, bytes([0x08, 1, 0x12, 2, 0xC3, 0x28])) == ("bad utf-8", "name")


def test_split_singular_message_is_merged():
    # Money sent in two parts inside a Revenue: bills first, coins later
    data = bytes([0x0A, 2, 0x08, 7, 0x10, 1, 0x0A, 2, 0x10, 9])
    assert codec.decode(schema.ZXReport_Revenue, data) == {"sum": {"bills": 7, "coins": 9}, "is_negative": True}


def test_depth_limit():
    data = GOLDEN_TICKET
    # Request 0 > ticket 1 > items 2 > commodity 3 > taxes 4 > sum 5
    assert _raises(codec.decode, schema.Request, data, 2) == ("too deep", "Date")
    assert _raises(codec.decode, schema.Request, data, 4) == ("too deep", "Money")
    assert codec.decode(schema.Request, data, 5) == _ticket()


def test_response_with_result_only():
    r = {"command": schema.COMMAND_SYSTEM, "result": {"result_code": schema.RESULT_TYPE_OK}}
    assert codec.encode(schema.Response, r) == bytes([0x08, 0, 0x12, 2, 0x08, 0])
    assert codec.decode(schema.Response, bytes([0x08, 0, 0x12, 2, 0x08, 0])) == r


def test_decode_accepts_bytearray_and_memoryview():
    assert codec.decode(schema.Request, bytearray(GOLDEN_TICKET)) == _ticket()
    assert codec.decode(schema.Request, memoryview(GOLDEN_TICKET)) == _ticket()


def test_enum_constants_of_nested_enums():
    assert schema.RESULT_TYPE_ELEMENT_NOT_FOUND_BY_BARCODE == 18
    assert schema.NOMENCLATURE_RESPONSE_RESULT_TYPE_ELEMENT_NOT_FOUND_BY_BARCODE == 3
    assert schema.AUTH_RESPONSE_RESULT_TYPE_INVALID_LOGIN_PASSWORD == 1
    assert schema.ITEM_TYPE_STORNO_DISCOUNT == 6
    assert schema.USER_ROLE_ADMINISTRATOR == 3
    assert schema.NAMES[schema.TicketRequest_Item_Commodity] == "TicketRequest.Item.Commodity"


def test_money_helpers():
    assert ofd.money(0) == {"bills": 0, "coins": 0}
    assert ofd.money(15050) == {"bills": 150, "coins": 50}
    assert ofd.money(99) == {"bills": 0, "coins": 99}
    assert ofd.tiyn({"bills": 150, "coins": 50}) == 15050
    assert ofd.tiyn({"bills": 1, "coins": 150}) == 250  # coins >= 100 carried
    for t in (0, 1, 99, 100, 101, 123456789012):
        assert ofd.tiyn(ofd.money(t)) == t
    assert _raises(ofd.money, -1)[0] == "bad money amount"
    assert _raises(ofd.tiyn, {"bills": -1, "coins": 0})[0] == "bad money amount"


def test_protocol_error_is_a_value_error():
    assert issubclass(ofd.ProtocolError, ValueError)


def test_duplicate_scalar_last_wins():
    # protobuf: a non-repeated scalar seen twice takes the last value
    assert codec.decode(schema.Money, bytes([0x08, 5, 0x10, 1, 0x08, 0x87, 0x01])) == _m(135, 1)
    assert codec.decode(schema.Operator, bytes([0x08, 1, 0x12, 1, 0x41, 0x12, 1, 0x42])) == {"code": 1, "name": "B"}


def test_bool_any_nonzero_varint_is_true():
    for wire in ([0x02], [0x80, 0x01], [0x80] * 9 + [0x01]):
        data = bytes([0x0A, 4, 0x08, 1, 0x10, 0, 0x10] + wire)
        assert codec.decode(schema.ZXReport_Revenue, data)["is_negative"] is True
    assert codec.decode(schema.ZXReport_Revenue, bytes([0x0A, 4, 0x08, 1, 0x10, 0, 0x10, 0]))["is_negative"] is False


def test_uint32_wider_on_the_wire_is_truncated_like_protobuf():
    assert codec.decode(schema.Operator, bytes([0x08, 0x85, 0x80, 0x80, 0x80, 0x10])) == {"code": 5}


def test_every_unusable_wire_type_is_refused():
    money = bytes([0x08, 1, 0x10, 1])
    for key in (0x1B, 0x1C, 0x1E, 0x1F):  # field 3 with wire types 3 (group), 4, 6, 7
        assert _raises(codec.decode, schema.Money, money + bytes([key])) == ("bad wire type", key & 7)


def test_field_numbers_above_the_protobuf_maximum_are_refused():
    # field numbers are 1 .. 2**29 - 1; Google protobuf refuses larger ones
    top = bytes([0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 1])  # 2**29 - 1, varint: skipped
    assert codec.decode(schema.Money, bytes([0x08, 1, 0x10, 1]) + top) == _m(1, 1)
    over = bytes([0x80, 0x80, 0x80, 0x80, 0x10, 1])  # 2**29
    assert _raises(codec.decode, schema.Money, bytes([0x08, 1, 0x10, 1]) + over)[0] == "bad field number"


def test_unknown_enum_values_are_unknown_fields_proto2():
    # proto2 enums are closed: a value the schema does not list is kept out
    # of the message (as Google protobuf does), so a required enum with an
    # unknown value is a missing required field
    assert _raises(codec.decode, schema.Request, bytes([0x08, 9])) == ("missing required field", "command")
    assert codec.decode(schema.AuthResponse, bytes([0x08, 0, 0x20, 2, 0x20, 9, 0x20, 3])) == \
        {"result": 0, "roles": [2, 3]}
    # packed, and multi-byte values
    assert codec.decode(schema.AuthResponse, bytes([0x08, 0, 0x22, 4, 1, 0x80, 0x01, 3])) == \
        {"result": 0, "roles": [1, 3]}
    # a later unknown value does not replace a known one
    assert codec.decode(schema.Request, bytes([0x08, 1, 0x08, 9])) == {"command": 1}
    # Result.result_code is a plain uint32: unknown codes still come through
    assert codec.decode(schema.Result, bytes([0x08, 99]))["result_code"] == 99
