#!/usr/bin/env python3
"""Fill a blank form written by `tonghop form` the way a person would, with openpyxl.

Usage:
    python fill_form.py IN.xlsx OUT.xlsx --unit "Huyện ủy Lâm Hà" --period "Tháng 10/2026" \
        --values HN=2/10,NG=150/900,...

Nothing is found by a fixed address: every part is found by its label or header row, the way a
person looks for "Đơn vị báo cáo:" and types in the yellow cell to its right:

- header fields: the label cell ("Đơn vị báo cáo:", "Kỳ báo cáo:", ...), then the first unlocked
  (input) cell to its right on the same row;
- indicators: the table's header row (the row holding "Mã chỉ tiêu" and the value headers), then
  each row by its code;
- activities: the header row, then the first empty rows below it; the "Hình thức" value is checked
  against the cell's dropdown list, as picking from the dropdown would;
- narrative: each block's label, then the first unlocked cell to its right (else the cell below).

Labels are compared after folding (NFC/NFD, diacritics, đ -> d, case, punctuation, spaces), as the
reader does. Prints one line per written cell ("Chỉ tiêu!C9 = ...") to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter, range_boundaries

SHEET_INDICATORS = "Chỉ tiêu"
SHEET_ACTIVITIES = "Hoạt động"
SHEET_NARRATIVE = "Thuyết minh"

LABEL_UNIT = "Đơn vị báo cáo"
LABEL_PERIOD = "Kỳ báo cáo"
LABEL_PREPARER = "Người lập biểu"
LABEL_PHONE = "Số điện thoại"
LABEL_DATE = "Ngày lập"

CODE_HEADER = "Mã chỉ tiêu"
VALUE_HEADERS = ["Kỳ này", "Lũy kế từ đầu năm"]

ACT_STT = "STT"
ACT_DATE = "Ngày"
ACT_FORM = "Hình thức"
ACT_CONTENT = "Nội dung hoạt động"
ACT_PLACE = "Nơi đăng, địa điểm"
ACT_REACH = "Số người dự, lượt tiếp cận"
ACT_NOTE = "Ghi chú"

NARRATIVE = {
    "Kết quả nổi bật": (
        "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt của huyện.\n"
        "- Trang thông tin điện tử huyện đăng 3 tin, bài về gương cán bộ năng động, sáng tạo."
    ),
    "Khó khăn, vướng mắc": "Đội ngũ báo cáo viên cơ sở còn mỏng; một số xã vùng sâu thiếu tài liệu.",
    "Đề xuất, kiến nghị": "Đề nghị Ban Tuyên giáo Tỉnh ủy cung cấp thêm tài liệu tuyên truyền bằng tiếng K'Ho.",
}


def fold(s: object) -> str:
    """The reader's folding: NFD, combining marks removed, đ -> d, lower case, words only."""
    text = unicodedata.normalize("NFD", str(s)).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def addr(ws, cell) -> str:
    return f"{ws.title}!{cell.coordinate}"


def find_sheet(wb, name: str):
    for ws in wb.worksheets:
        if fold(ws.title) == fold(name):
            return ws
    sys.exit(f"fill_form: no sheet named {name!r} (sheets: {wb.sheetnames})")


def find_label(ws, label: str, *, after_row: int = 0):
    """The first cell (top to bottom, left to right) whose text folds to `label`."""
    want = fold(label)
    for row in ws.iter_rows(min_row=after_row + 1):
        for cell in row:
            if isinstance(cell.value, str) and fold(cell.value) == want:
                return cell
    return None


def merged_end_col(ws, cell) -> int:
    for rng in ws.merged_cells.ranges:
        if cell.coordinate in rng:
            return rng.max_col
    return cell.column


def input_right_of(ws, label_cell):
    """The first input (unlocked, not a merged continuation) cell right of a label, same row."""
    r = label_cell.row
    start = merged_end_col(ws, label_cell) + 1
    for c in range(start, max(ws.max_column, start) + 1):
        cell = ws.cell(row=r, column=c)
        if isinstance(cell, MergedCell):
            continue
        if cell.protection is not None and cell.protection.locked is False:
            return cell
    return None


def put(ws, cell, value, *, number_format: str | None = None) -> None:
    if isinstance(cell, MergedCell):
        sys.exit(f"fill_form: {addr(ws, cell)} is inside a merged range; cannot type there")
    cell.value = value
    if number_format:
        cell.number_format = number_format
    shown = value.isoformat() if isinstance(value, dt.date) else value
    print(f"{addr(ws, cell)} = {shown!r}")


def fill_header(ws, label: str, value, **kw) -> None:
    lab = find_label(ws, label)
    if lab is None:
        sys.exit(f"fill_form: label {label!r} not found on {ws.title!r}")
    cell = input_right_of(ws, lab)
    if cell is None:
        sys.exit(f"fill_form: no input cell right of {addr(ws, lab)} ({label!r})")
    put(ws, cell, value, **kw)


def header_row(ws, headers: list[str]) -> tuple[int, dict[str, int]]:
    """The first row holding every one of `headers`; returns (row, folded header -> column)."""
    want = [fold(h) for h in headers]
    for row in ws.iter_rows():
        cols = {}
        for cell in row:
            if isinstance(cell.value, str):
                cols.setdefault(fold(cell.value), cell.column)
        if all(w in cols for w in want):
            return row[0].row, cols
    sys.exit(f"fill_form: no header row with {headers} on {ws.title!r}")


def list_choices(ws, cell) -> list[str] | None:
    """The in-line dropdown list of the data validation covering `cell`, if there is one."""
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list" or cell.coordinate not in dv.sqref:
            continue
        f = dv.formula1 or ""
        if f.startswith('"') and f.endswith('"'):
            return [x.replace('""', '"') for x in f[1:-1].split(",")]
        return None  # a range reference: not checked here
    return None


def parse_values(spec: str) -> dict[str, list[int | str | None]]:
    """CODE=ky_nay/luy_ke pairs. A value that is not a whole number is typed as text, the way a
    person types "khoảng 20" into a number cell."""
    out: dict[str, list[int | str | None]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        code, _, vals = part.partition("=")
        nums: list[int | str | None] = []
        for v in vals.split("/"):
            v = v.strip()
            nums.append(None if v == "" else int(v) if re.fullmatch(r"-?\d+", v) else v)
        out[fold(code)] = nums
    return out


def period_month(label: str) -> tuple[int, int]:
    m = re.search(r"(\d{1,2})\s*[/.-]\s*(\d{4})", label)
    if not m:
        sys.exit(f"fill_form: cannot read a month/year from --period {label!r}")
    return int(m.group(2)), int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--unit", required=True)
    ap.add_argument("--period", required=True, help='as a person types it: "Tháng 10/2026"')
    ap.add_argument("--values", required=True, help="CODE=ky_nay/luy_ke,... e.g. HN=2/10,NG=150/900")
    ap.add_argument("--preparer", default="Nguyễn Thị Hồng Nhung")
    ap.add_argument("--phone", default="0263 3822 415")
    ap.add_argument("--date", help="Ngày lập, YYYY-MM-DD (default: the 2nd of the next month)")
    args = ap.parse_args()

    year, month = period_month(args.period)
    made = (
        dt.date.fromisoformat(args.date)
        if args.date
        else (dt.date(year + (month == 12), month % 12 + 1, 2))
    )

    wb = openpyxl.load_workbook(args.input)

    # ---- header fields ----
    ws = find_sheet(wb, SHEET_INDICATORS)
    fill_header(ws, LABEL_UNIT, args.unit)
    fill_header(ws, LABEL_PERIOD, args.period)
    fill_header(ws, LABEL_PREPARER, args.preparer)
    fill_header(ws, LABEL_PHONE, args.phone)
    fill_header(ws, LABEL_DATE, made, number_format="dd/mm/yyyy")

    # ---- indicator values, by code ----
    values = parse_values(args.values)
    hr, cols = header_row(ws, [CODE_HEADER, *VALUE_HEADERS])
    code_col = cols[fold(CODE_HEADER)]
    value_cols = [cols[fold(h)] for h in VALUE_HEADERS]
    seen = set()
    for r in range(hr + 1, ws.max_row + 1):
        code = ws.cell(row=r, column=code_col).value
        if code is None or fold(code) not in values:
            continue
        for c, v in zip(value_cols, values[fold(code)]):
            if v is not None:
                put(ws, ws.cell(row=r, column=c), v)
        seen.add(fold(code))
    missing = set(values) - seen
    if missing:
        sys.exit(f"fill_form: codes not found in the table: {sorted(missing)}")

    # ---- activities ----
    ws = find_sheet(wb, SHEET_ACTIVITIES)
    names = [ACT_STT, ACT_DATE, ACT_FORM, ACT_CONTENT, ACT_PLACE, ACT_REACH, ACT_NOTE]
    hr, cols = header_row(ws, names)
    col_of = {n: cols[fold(n)] for n in names}
    activities = [
        (dt.date(year, month, 8), "Hội nghị",
         "Hội nghị quán triệt Kết luận 14-KL/TW cho cán bộ chủ chốt huyện",
         "Hội trường Huyện ủy", 150, None),
        (dt.date(year, month, 15), "Trang thông tin điện tử",
         "Đăng tin \"Khuyến khích cán bộ dám nghĩ, dám làm, dám chịu trách nhiệm\"",
         "Trang thông tin điện tử của huyện", 1320, None),
        (dt.date(year, month, 24), "Sinh hoạt chi bộ",
         "Sinh hoạt chuyên đề về Kết luận 14-KL/TW và gương cán bộ năng động, sáng tạo",
         "Chi bộ thôn Tân Lập, xã Tân Hà", 28, "Lồng ghép sinh hoạt thường kỳ"),
    ]
    r = hr + 1
    while any(ws.cell(row=r, column=c).value not in (None, "") for c in col_of.values()):
        r += 1
    for n, (day, form, content, place, reach, note) in enumerate(activities, start=1):
        put(ws, ws.cell(row=r, column=col_of[ACT_STT]), n)
        put(ws, ws.cell(row=r, column=col_of[ACT_DATE]), day, number_format="dd/mm/yyyy")
        form_cell = ws.cell(row=r, column=col_of[ACT_FORM])
        choices = list_choices(ws, form_cell)
        if choices is not None and form not in choices:
            sys.exit(f"fill_form: {form!r} is not in the dropdown of {addr(ws, form_cell)}: {choices}")
        put(ws, form_cell, form)
        put(ws, ws.cell(row=r, column=col_of[ACT_CONTENT]), content)
        put(ws, ws.cell(row=r, column=col_of[ACT_PLACE]), place)
        put(ws, ws.cell(row=r, column=col_of[ACT_REACH]), reach)
        if note:
            put(ws, ws.cell(row=r, column=col_of[ACT_NOTE]), note)
        r += 1

    # ---- narrative ----
    ws = find_sheet(wb, SHEET_NARRATIVE)
    for label, text in NARRATIVE.items():
        lab = find_label(ws, label)
        if lab is None:
            sys.exit(f"fill_form: narrative label {label!r} not found")
        cell = input_right_of(ws, lab) or ws.cell(row=lab.row + 1, column=lab.column)
        put(ws, cell, text)

    wb.save(args.output)


if __name__ == "__main__":
    main()
