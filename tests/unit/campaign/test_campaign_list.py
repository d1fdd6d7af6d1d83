"""A campaign's call list and do-not-call list: columns, row keys, bad rows, number matching."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared import text_writer

from ivr.campaign.calllist import CallRow, national_number, phone_digits, read_call_list
from ivr.campaign.donotcall import DoNotCall, read_do_not_call
from ivr.errors import IvrError

NUMBER = "13812345678"


write = text_writer("calls.csv")


def test_rows_carry_key_line_number_name_uri_and_every_column_as_values(tmp_path):
    path = write(
        tmp_path,
        " number , name ,id,uri,amount\n"
        "13812345678,张三,C001,,¥200\n"
        "\n"
        "+86 139-0000-1111, 李四 ,,sip:1001@pbx.example:5070,¥35\n"
        ",,,,\n"
        "010 6512 3456,,  ,,\n",
    )
    calls = read_call_list(path)
    assert calls.path == path and calls.problems == []
    assert calls.columns == ("number", "name", "id", "uri", "amount")
    assert calls.rows == [
        CallRow("C001", 2, NUMBER, "张三", None,
                {"number": NUMBER, "name": "张三", "id": "C001", "uri": "", "amount": "¥200"}),
        CallRow("line 4", 4, "+86 139-0000-1111", "李四", "sip:1001@pbx.example:5070",
                {"number": "+86 139-0000-1111", "name": "李四", "id": "",
                 "uri": "sip:1001@pbx.example:5070", "amount": "¥35"}),
        CallRow("line 6", 6, "010 6512 3456", None, None,
                {"number": "010 6512 3456", "name": "", "id": "", "uri": "", "amount": ""}),
    ]  # fmt: skip
    assert [row.digits for row in calls.rows] == [NUMBER, "+8613900001111", "01065123456"]


def test_a_bom_short_rows_quoted_fields_and_a_number_only_list(tmp_path):
    path = write(tmp_path, "number\r\n13812345678\r\n13912345678\r\n", encoding="utf-8-sig")
    calls = read_call_list(path)
    assert [(r.key, r.number, r.name) for r in calls.rows] == [
        ("line 2", NUMBER, None), ("line 3", "13912345678", None),
    ]  # fmt: skip
    quoted = write(tmp_path, 'name,number,note\n"张,三",13812345678\n"x","139","two\nlines"\n')
    calls = read_call_list(quoted)
    assert calls.problems == []
    assert [(r.line, r.name, r.values["note"]) for r in calls.rows] == [
        (2, "张,三", ""), (3, "x", "two\nlines"),
    ]  # fmt: skip


def test_bad_rows_are_left_out_each_with_a_masked_one_line_problem(tmp_path):
    path = write(
        tmp_path,
        "id,number,name\n"
        "a,13812345678,张三\n"  # 2: fine
        "b,,李四\n"  # 3: no number
        "c,138abc12345678,王五\n"  # 4: not a number
        "d,12,赵六\n"  # 5: too short
        "a,13900000000,钱七\n"  # 6: key of line 2
        "e,+86 138 1234 5678,孙八\n"  # 7: number of line 2
        "f,13700000000,周九,extra\n"  # 8: more fields than the header
        "g,13600000000,吴十\n"  # 9: fine
        "line 11,13500000000,\n"  # 10: a key that line 11 would get
        ",13400000000,\n",  # 11: its key is taken
    )
    calls = read_call_list(path)
    assert [row.key for row in calls.rows] == ["a", "g", "line 11"]
    assert calls.problems == [
        f"{path}:3: no number",
        f"{path}:4: not a phone number: '138abc****5678'",
        f"{path}:5: not a phone number: '12'",
        f"{path}:6: id 'a' is already on line 2",
        f"{path}:7: number '+86 1** **** 5678' is already on line 2",
        f"{path}:8: 4 fields, but the header names 3",
        f"{path}:11: id 'line 11' is already on line 10",
    ]
    assert all(NUMBER not in p and "1234 5678" not in p for p in calls.problems)


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("sip:1001@pbx.example", True),
        ("sip:13812345678@10.0.0.5:5060", True),
        ("sips:agent@trunk.example:5061", True),
        ("1001@pbx.example", False),
        ("sip:pbx.example", False),
        ("sip:1001@pbx.example:port", False),
        ("sip:10 01@pbx", False),
    ],
)
def test_a_rows_uri_must_be_a_sip_address(tmp_path, uri, ok):
    path = write(tmp_path, f"number,uri\n{NUMBER},{uri}\n")
    if ok:
        calls = read_call_list(path)
        assert calls.problems == [] and calls.rows[0].uri == uri
    else:  # the whole list is refused: its campaign must not start
        with pytest.raises(IvrError) as error:
            read_call_list(path)
        problem = str(error.value)
        assert problem.startswith(f"{tmp_path / 'calls.csv'}:2: invalid SIP address ")
        assert problem.endswith(": give sip:USER@HOST[:PORT]") and NUMBER not in problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the call list is empty (it needs a header row: number,name,...)"),
        ("\n\n  \n", "the call list is empty (it needs a header row: number,name,...)"),
        (
            "name,phone\n张三,13812345678\n",
            "1: the header has no 'number' column ('name', 'phone')",
        ),
        ("\nNumber\n13812345678\n", "2: the header has no 'number' column ('Number')"),
        ("number,name,number\n", "1: column 'number' is named twice in the header"),
        ('number\n"13812345678\n', "2: not CSV: unexpected end of data"),
    ],
)
def test_unusable_files_raise_one_line_naming_the_file(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(IvrError) as error:
        read_call_list(path)
    separator = ":" if problem[0].isdigit() else ": "
    assert str(error.value) == f"{path}{separator}{problem}"


def test_unreadable_and_non_utf8_files_raise_naming_the_file(tmp_path):
    missing = tmp_path / "none.csv"
    with pytest.raises(IvrError, match=re.escape(f"{missing}: cannot read the call list: ")):
        read_call_list(missing)
    gbk = write(tmp_path, "number,name\n13812345678,张三\n", encoding="gbk")
    with pytest.raises(IvrError) as error:
        read_call_list(gbk)
    assert str(error.value) == (
        f"{gbk}: the call list is not UTF-8 text (byte 24); save it as UTF-8 CSV"
    )
    with pytest.raises(IvrError, match=re.escape(f"{tmp_path}: cannot read the call list: ")):
        read_call_list(tmp_path)


@pytest.mark.parametrize(
    ("number", "digits", "national"),
    [
        ("13812345678", "13812345678", "13812345678"),
        (" +86 138-1234-5678 ", "+8613812345678", "13812345678"),
        ("008613812345678", "008613812345678", "13812345678"),
        ("8613812345678", "8613812345678", "13812345678"),
        ("86123456", "86123456", "86123456"),  # a local number starting with 86
        ("+86 10 6512 3456", "+861065123456", "1065123456"),
        ("001 555 123 4567", "0015551234567", "+15551234567"),
        ("+1 555 123 4567", "+15551234567", "+15551234567"),
        ("110", "110", "110"),
        ("12", None, None),
        ("1" * 21, None, None),
        ("138 1234 5678 转 12", None, None),
        ("+", None, None),
        ("138--1234", "1381234", "1381234"),
        ("-1381234", None, None),
        ("1381234-", None, None),
        ("++8613812345678", None, None),
    ],
)
def test_phone_digits_and_national_number(number, digits, national):
    assert phone_digits(number) == digits
    assert national_number(number) == national


def test_do_not_call_one_number_a_line_with_comments(tmp_path):
    path = write(
        tmp_path,
        "# 免打扰名单\n\n+86 138 1234 5678  # asked on 2026-11-02\n  0086 139-0000-1111\n",
        name="dnc.txt",
    )
    dnc = read_do_not_call(path)
    assert len(dnc) == 2 and dnc.path == path
    assert NUMBER in dnc and "8613812345678" in dnc and "+86 13900001111" in dnc
    assert "13700000000" not in dnc and "not a number" not in dnc and None not in dnc


def test_do_not_call_csv_with_a_number_column(tmp_path):
    path = write(
        tmp_path,
        "\ufeff# exported from the CRM\nname,number,reason\n"
        "张#三,138 1234 5678,complaint\n李四,,\n王五,13900001111\n",
        name="dnc.csv",
    )
    dnc = read_do_not_call(path)
    assert len(dnc) == 2 and NUMBER in dnc and "+8613900001111" in dnc


def test_do_not_call_refuses_a_list_it_cannot_read_whole(tmp_path):
    bad = write(tmp_path, "13812345678\n138abc45678\n", name="dnc.txt")
    with pytest.raises(IvrError) as error:
        read_do_not_call(bad)
    assert str(error.value) == f"{bad}:2: not a phone number: '138abc45678'"
    bad_cell = write(tmp_path, "number\n13812345678 张三\n", name="dnc.csv")
    with pytest.raises(IvrError) as error:
        read_do_not_call(bad_cell)
    assert str(error.value) == f"{bad_cell}:2: not a phone number: '138****5678 张三'"
    missing = tmp_path / "none.txt"
    with pytest.raises(IvrError, match=re.escape(f"{missing}: cannot read the do-not-call list")):
        read_do_not_call(missing)
    gbk = write(tmp_path, "# 名单\n13812345678\n", name="gbk.txt", encoding="gbk")
    with pytest.raises(IvrError, match=re.escape(f"{gbk}: the do-not-call list is not UTF-8")):
        read_do_not_call(gbk)
    assert len(read_do_not_call(write(tmp_path, "# nobody yet\n", name="empty.txt"))) == 0
    with pytest.raises(ValueError, match="not a phone number: 'x'"):
        DoNotCall(["x"])


national_mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def written_forms(draw, national: str) -> str:
    """The national number written in one of the ways people write it."""
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "86", "0086 "]))
    groups = [national[:3], national[3:7], national[7:]]
    separator = draw(st.sampled_from(["", " ", "-"]))
    return prefix + separator.join(groups)


@given(st.data(), national_mobiles, national_mobiles)
def test_any_written_form_of_a_listed_mobile_matches_and_no_other(data, listed, other):
    dnc = DoNotCall([data.draw(written_forms(listed))])
    assert data.draw(written_forms(listed)) in dnc
    assert (data.draw(written_forms(other)) in dnc) == (other == listed)
