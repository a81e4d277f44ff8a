"""Reading roster files (花名册): GBK and UTF-8 CSV, Excel, Chinese and English headers."""

from __future__ import annotations

import codecs
import io

import openpyxl
import pytest

from goalgraph.adapters.contract import AdapterError
from goalgraph.adapters.roster_file import read_roster
from goalgraph.core.roster import RosterRow

CHINESE = (
    "工号,姓名,英文名,部门,上级工号,邮箱,职位,角色\n"
    "1001,张伟,Zhang Wei,华北大区,,zhang.wei@acme.example,大区总监,manager\n"
    "1002,李娜,,华北大区 / 石家庄长安店,1001,,店长,\n"
    "\n"
    '1003,"王芳",,"华北大区/石家庄长安店",1002,,"店员\n(兼职)",\n'
    "1004,赵磊,,,,,,\n"
)


def test_a_gbk_csv_with_chinese_headers_reads_as_a_person_sees_it() -> None:
    # given the GBK CSV Excel saves on a Chinese Windows, with a blank line and a cell
    # spanning two lines
    rows = read_roster(CHINESE.encode("gbk"), "花名册.csv")
    # then each row is numbered by the line it starts on (the header is line 1)
    assert [r.line for r in rows] == [2, 3, 5, 7]
    assert rows[0] == RosterRow(
        line=2,
        employee_no="1001",
        name="张伟",
        name_en="Zhang Wei",
        department=("华北大区",),
        manager_no="",
        email="zhang.wei@acme.example",
        title="大区总监",
        role="manager",
        external_id=None,
    )
    # department paths are split on "/" and trimmed; a blank department is the company
    assert rows[1].department == ("华北大区", "石家庄长安店")
    assert rows[1].manager_no == "1001"
    assert rows[2].title == "店员\n(兼职)"
    assert rows[3].department == ()


def test_utf8_with_bom_and_english_headers_in_any_case() -> None:
    text = (
        "Employee No, NAME ,name_en,Department,Manager_No,E-mail,Title,Role,External ID\n"
        "E-7,Alice Wang,Alice,Sales/East Team,,alice@acme.example,Rep,Viewer,ding-42\n"
    )
    data = codecs.BOM_UTF8 + text.replace("E-mail", "email").encode("utf-8")
    [row] = read_roster(data, "roster.csv")
    assert row.employee_no == "E-7"
    assert row.name == "Alice Wang"
    assert row.department == ("Sales", "East Team")
    assert row.role == "Viewer"
    assert row.external_id == "ding-42"
    assert row.line == 2


def test_an_xlsx_roster_with_numbers_for_employee_numbers() -> None:
    # given a workbook whose 工号 column Excel stores as numbers, with an empty row
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工号", "姓名", "部门", "上级工号", "外部ID"])
    sheet.append([1001, "张伟", "华北大区", None, None])
    sheet.append([])
    sheet.append([1002.0, "李娜", "华北大区/石家庄长安店", 1001, "u-2"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_roster(buffer.getvalue(), "花名册.xlsx")
    # then numbers read as the employee numbers they are, rows as Excel numbers them
    assert [(r.line, r.employee_no, r.manager_no) for r in rows] == [
        (2, "1001", ""),
        (4, "1002", "1001"),
    ]
    assert rows[1].external_id == "u-2"
    assert rows[0].name_en == ""
    assert rows[0].email == ""


def test_missing_required_headers_name_them_and_what_the_file_has() -> None:
    data = "工号,名字,科室\n1,a,b\n".encode()
    with pytest.raises(AdapterError) as caught:
        read_roster(data, "roster.csv")
    message = str(caught.value)
    assert "姓名 (name)" in message
    assert "部门 (department)" in message
    assert "工号" not in message.split(";")[0]
    assert "the file has: '工号', '名字', '科室'" in message


def test_a_column_given_twice_and_an_empty_file_are_refused() -> None:
    with pytest.raises(AdapterError, match="more than once"):
        read_roster("工号,姓名,部门,name\n1,a,b,c\n".encode(), "r.csv")
    with pytest.raises(AdapterError, match="no header row"):
        read_roster(b"\n\n", "r.csv")
    with pytest.raises(AdapterError, match="unknown encoding"):
        read_roster(b"x", "r.csv", encoding="klingon")


def test_a_legacy_xls_workbook_is_refused_with_what_to_do() -> None:
    with pytest.raises(AdapterError, match=r"save the file as \.xlsx or CSV"):
        read_roster(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "花名册.xls")
