"""The firmware schema tables match the .proto, and the .proto matches the protocol facts."""

import os

import pytest

from tools import gen_schema
from tools.pb import all_messages, load

pb = load()


def test_schema_py_is_not_stale():
    with open(gen_schema.OUT) as f:
        committed = f.read()
    assert committed == gen_schema.build(), "run: python tools/gen_schema.py"


def test_every_message_has_a_firmware_table():
    from ofd import codec, schema

    msgs = all_messages(pb)
    assert len(msgs) == len(schema.NAMES)
    for d in msgs:
        name = d.full_name[len("kkm.ofd.v203."):]
        f = schema.FIELDS[codec.msg_handle(name)]
        assert tuple(f[0::4]) == tuple(sorted(x.number for x in d.fields)), name
        assert tuple(f[1::4]) == tuple(x.name for x in sorted(d.fields, key=lambda x: x.number)), name


FIELD_FACTS = [
    # (message, field, number, type, label) from PROTOCOL.md sections 4-11, 17
    ("Request", "command", 1, "TYPE_ENUM", "required"),
    ("Request", "auth", 8, "TYPE_MESSAGE", "optional"),
    ("Response", "result", 2, "TYPE_MESSAGE", "required"),
    ("Result", "result_code", 1, "TYPE_UINT32", "required"),
    ("Money", "bills", 1, "TYPE_UINT64", "required"),
    ("Money", "coins", 2, "TYPE_UINT32", "required"),
    ("Time", "second", 3, "TYPE_UINT32", "optional"),
    ("TicketRequest", "domain", 4, "TYPE_MESSAGE", "optional"),
    ("TicketRequest", "items", 5, "TYPE_MESSAGE", "repeated"),
    ("TicketRequest", "printed_document_number", 16, "TYPE_UINT64", "optional"),
    ("TicketRequest", "parent_ticket", 17, "TYPE_MESSAGE", "optional"),
    ("TicketRequest.Item.Commodity", "code", 1, "TYPE_UINT64", "optional"),
    ("TicketRequest.Item.Commodity", "quantity", 4, "TYPE_UINT64", "required"),
    ("TicketRequest.Item.Commodity", "list_excise_stamp", 14, "TYPE_STRING", "repeated"),
    ("TicketRequest.Item.StornoCommodity", "ntin", 14, "TYPE_STRING", "optional"),
    ("TicketRequest.Payment.CardPaymentFields", "pos_rrn", 4, "TYPE_UINT64", "optional"),
    ("TicketRequest.ParentTicket", "parent_ticket_is_offline", 5, "TYPE_BOOL", "required"),
    ("TicketResponse", "qr_code", 2, "TYPE_BYTES", "optional"),
    ("ZXReport", "checksum", 18, "TYPE_STRING", "optional"),
    ("ZXReport", "revenue", 14, "TYPE_MESSAGE", "required"),
    ("ZXReport.TicketOperation", "change_sum", 9, "TYPE_MESSAGE", "optional"),
    ("ReportResponse", "zx_report", 2, "TYPE_MESSAGE", "optional"),
    ("KkmRegInfo", "kkm_id", 5, "TYPE_STRING", "optional"),
    ("PosRegInfo", "latitude", 4, "TYPE_UINT32", "optional"),
    ("OrgRegInfo", "tenantId", 7, "TYPE_INT32", "optional"),
    ("ServiceRequest", "auxiliary", 60, "TYPE_KEYVALUE", "repeated"),
    ("ServiceRequest", "software_information_old", 10, "TYPE_BYTES", "optional"),
    ("ServiceRequest.SecurityStats.GeoPosition", "latitude", 1, "TYPE_INT32", "required"),
    ("ServiceRequest.SecurityStats.GeoPosition", "source", 3, "TYPE_STRING", "optional"),
    ("ServiceResponse", "auxiliary", 30, "TYPE_KEYVALUE", "repeated"),
    ("NomenclatureResponse.Element", "title_kk", 7, "TYPE_STRING", "optional"),
    ("NomenclatureResponse.Tax", "tax_type", 2, "TYPE_ENUM", "required"),
    ("NomenclatureResponse.Item", "is_social", 19, "TYPE_BOOL", "optional"),
    ("AuthResponse", "roles", 4, "TYPE_ENUM", "repeated"),
]


def _msg(name):
    d = pb
    for part in name.split("."):
        d = getattr(d, part)
    return d.DESCRIPTOR


@pytest.mark.parametrize("msg,field,number,ftype,label", FIELD_FACTS)
def test_kz_4_field_facts(msg, field, number, ftype, label):
    fd = _msg(msg).fields_by_name[field]
    assert fd.number == number
    if ftype == "TYPE_KEYVALUE":
        assert fd.message_type.name == "KeyValuePair"
    else:
        assert fd.type == getattr(fd, ftype)
    got = "repeated" if fd.is_repeated else "required" if fd.is_required else "optional"
    assert got == label


def test_kz_4_enum_facts():
    assert pb.COMMAND_RESERVED == 127 and pb.COMMAND_AUTH == 8
    assert pb.RESULT_TYPE_SERVICE_TEMPORARILY_UNAVAILABLE == 254 and pb.RESULT_TYPE_UNKNOWN_ERROR == 255
    assert pb.RESULT_TYPE_ELEMENT_NOT_FOUND_BY_BARCODE == 18
    assert pb.PAYMENT_MOBILE == 4 and pb.USER_ROLE_PAYMASTER == 1
    assert pb.TicketRequest.Item.ITEM_TYPE_STORNO_DISCOUNT == 6
    assert pb.NomenclatureResponse.TRBP == 103 and pb.NomenclatureResponse.VAT == 100
    assert pb.NomenclatureResponse.RESULT_TYPE_ELEMENT_NOT_FOUND_BY_BARCODE == 3
    assert pb.AuthResponse.RESULT_TYPE_INVALID_LOGIN_PASSWORD == 1
    assert pb.MONEY_PLACEMENT_WITHDRAWAL == 1 and pb.REPORT_X == 1
    assert pb.DOMAIN_PARKING == 5 and pb.TICKET_AD_INFO == 4


def test_proto_is_proto2():
    with open(os.path.join(os.path.dirname(gen_schema.OUT), "ofd203.proto")) as f:
        assert 'syntax = "proto2";' in f.read()
