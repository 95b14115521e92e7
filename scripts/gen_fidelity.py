#!/usr/bin/env python3
"""Generate the reading-fidelity fixtures in tests/fixtures/fidelity/ (issue 12, points 1-4).

Every file is the October 2026 report of Huyện ủy Lâm Hà from tests/fixtures/layouts/ (the same
figures: HN=2/10 NG=150/900 TB=5/40 TTDT=3/20 MXH=12/80 SH=4/30 PB=1/6 MH=0/2 KT=1/3), written by
openpyxl with scripts/gen_samples.py's writer, then changed the way real files differ:

  line_breaks.xlsx    headers and labels typed with Alt+Enter, tabs, non-breaking and repeated
                      spaces ("Kỳ\\nnày", "Mã\\nchỉ tiêu", "Lũy kế\\ntừ đầu năm", "Đơn vị\\nbáo cáo:",
                      "Kết quả\\nnổi bật"); the unit name typed on two lines
  line_breaks.ods     the same, converted by LibreOffice
  line_breaks.xls     the same, converted by LibreOffice (Excel 97-2003)
  formulas.xlsx       indicator values and two activity counts written as formulas WITHOUT cached
                      results (openpyxl never computes), all computable exactly: constant
                      arithmetic and same-sheet references (=E11+8, =SUM(E15,17), =F4*5+10)
  formulas_unknown.xlsx  formulas nobody can compute here: =VLOOKUP(...) at Chỉ tiêu!E14, a
                      reference to another sheet at Chỉ tiêu!F16, =DATE(2026,10,24) as an
                      activity date at Hoạt động!B4
  formulas_xlwt.xls   Excel 97-2003 written by xlwt, which stores no formula result (an empty
                      text): Chỉ tiêu!A1 = 2, A2 = A1*3, A3 = IF(A1>1,"x","")
  formulas_script.ods an .ods written by hand as a script would: Chỉ tiêu!A1 = 2, A2 = [.A1]*3
                      and A3 = VLOOKUP(...) without a value, A4 = 1+1 with its value 2
  narrative_rows.xlsx each narrative block written one paragraph per row below its label
  unread_parts.xlsx   content the reader does not take: a note in the indicator table (G14), a
                      row with figures but no code (row 22), a column "Kế hoạch năm" (H11:H12), activity rows after five blank rows
                      (rows 10-11), an extra activity column (H), a fourth sheet with content,
                      a second "Kết quả nổi bật" block, text below the last narrative block; and a
                      hidden sheet of drop-down values, which is not content

How to run (from the repository root; needs openpyxl, xlwt and LibreOffice, see gen_samples.py):

  python3 scripts/gen_fidelity.py

The expectations live in the tests (src/pipeline/validate.rs, tests/integration/reading.rs).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import zipfile
from pathlib import Path

from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_samples as g  # noqa: E402

OUT = g.ROOT / "tests" / "fixtures" / "fidelity"


@contextlib.contextmanager
def labels(**names):
    """Temporarily replace gen_samples' label lists (TABLE_HEADER, ACT_HEADER, ...)."""
    old = {k: getattr(g, k) for k in names}
    for k, v in names.items():
        setattr(g, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(g, k, v)


def edit(path: Path, fn) -> None:
    """Open an openpyxl-written file, change it, save it again with stable zip bytes."""
    wb = load_workbook(path)
    fn(wb)
    wb.save(path)
    g.normalize_zip(path)


def line_breaks(tmp: Path) -> None:
    narr = ["Kết quả\nnổi bật", "Khó khăn,\nvướng mắc", "Đề xuất,  kiến\u00a0nghị"]
    with labels(
        TABLE_HEADER=["STT", "Mã\nchỉ tiêu", "Nội dung\nchỉ tiêu", "Đơn vị\ntính", "Kỳ\nnày",
                      "Lũy kế\ntừ đầu năm", "Ghi\tchú"],
        ACT_HEADER=["STT", "Ngày", "Hình\nthức", "Nội dung\nhoạt động", "Nơi đăng,\u00a0địa điểm",
                    "Số người dự,\nlượt tiếp cận", "Ghi  chú"],
        HEADER_LABELS=["Đơn vị\nbáo cáo:", "Kỳ báo\u00a0cáo:", "Người lập\nbiểu:",
                       "Số điện\tthoại:", "Ngày  lập:"],
        NARR_LABELS=narr,
    ):
        spec = g.fix_spec(unit_text="Huyện ủy\nLâm Hà",
                          narrative=dict(zip(narr, g.FIX_NARR.values())))
        g.write_form(spec, OUT / "line_breaks.xlsx")
    g.lo_convert(OUT / "line_breaks.xlsx", "ods", OUT / "line_breaks.ods")
    g.lo_convert(OUT / "line_breaks.xlsx", "xls", OUT / "line_breaks.xls")


def formulas() -> None:
    g.write_form(g.fix_spec(), OUT / "formulas.xlsx")

    def fn(wb):
        ws = wb["Chỉ tiêu"]
        ws["E11"] = "=1+1"            # HN 2
        ws["F11"] = "=E11+8"          # HN 10 (a reference to a formula cell)
        ws["E12"] = "=100+50"         # NG 150
        ws["F12"] = "=E12*6"          # NG 900
        ws["E14"] = "=(2+3)"          # TB 5
        ws["F15"] = "=SUM(E15,17)"    # TTDT 20 (E15 holds the number 3)
        ws["F16"] = "=SUM(E16:E17)+64"  # MXH 80 (12 + 4 + 64)
        ws["F18"] = "=12/2"           # PB 6
        act = wb["Hoạt động"]
        act["F2"] = "=F4*5+10"        # 28 * 5 + 10 = 150
        act["F3"] = "=1000+320"       # 1320

    edit(OUT / "formulas.xlsx", fn)


def formulas_unknown() -> None:
    g.write_form(g.fix_spec(), OUT / "formulas_unknown.xlsx")

    def fn(wb):
        ws = wb["Chỉ tiêu"]
        ws["E14"] = '=VLOOKUP("TB",$B$11:$E$21,4,FALSE)'
        ws["F16"] = "='Hoạt động'!F3/10"
        ws["E11"] = "=1+1"            # computable: a warning only
        act = wb["Hoạt động"]
        act["B4"] = "=DATE(2026,10,24)"

    edit(OUT / "formulas_unknown.xlsx", fn)


def formulas_xlwt() -> None:
    import xlwt  # pip install xlwt (1.3.0)

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Chỉ tiêu")
    ws.write(0, 0, 2)
    ws.write(1, 0, xlwt.Formula("A1*3"))
    ws.write(2, 0, xlwt.Formula('IF(A1>1,"x","")'))
    wb.save(str(OUT / "formulas_xlwt.xls"))


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Chỉ tiêu">
<table:table-row><table:table-cell office:value-type="float" office:value="2"><text:p>2</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell table:formula="of:=[.A1]*3"/></table:table-row>
<table:table-row><table:table-cell table:formula="of:=VLOOKUP(1;[.A1:.A2];1;0)"/></table:table-row>
<table:table-row><table:table-cell table:formula="of:=1+1" office:value-type="float" office:value="2"><text:p>2</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>
"""

ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""


def formulas_script_ods() -> None:
    path = OUT / "formulas_script.ods"
    with zipfile.ZipFile(path, "w") as z:
        def put(name, data, method):
            info = zipfile.ZipInfo(name, date_time=g.FIXED_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        put("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        put("content.xml", ODS_CONTENT, zipfile.ZIP_DEFLATED)
        put("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)


# Paragraphs of the narrative, one per row under each label.
NARR_ROWS = {
    "Kết quả nổi bật": [
        "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt.",
        "- Trang TTĐT huyện đăng 3 tin, bài về gương cán bộ năng động.",
        "- Biểu dương 1 cán bộ có sáng kiến trong chuyển đổi số.",
    ],
    "Khó khăn, vướng mắc": [
        "Đội ngũ báo cáo viên cơ sở còn mỏng.",
        "Kinh phí tuyên truyền còn hạn chế.",
    ],
    "Đề xuất, kiến nghị": [
        "Đề nghị cung cấp thêm tài liệu tuyên truyền bằng tiếng K'Ho.",
    ],
}


def narrative_rows() -> None:
    g.write_form(g.fix_spec(), OUT / "narrative_rows.xlsx")

    def fn(wb):
        del wb["Thuyết minh"]
        ws = wb.create_sheet("Thuyết minh")
        ws["A1"] = "THUYẾT MINH SỐ LIỆU, KẾT QUẢ THỰC HIỆN"
        r = 3
        for label, paras in NARR_ROWS.items():
            ws.cell(row=r, column=1, value=label + ":")
            for k, p in enumerate(paras):
                ws.cell(row=r + 1 + k, column=1, value=p)
            r += len(paras) + 2
        ws.column_dimensions["A"].width = 90

    edit(OUT / "narrative_rows.xlsx", fn)


def unread_parts() -> None:
    g.write_form(g.fix_spec(), OUT / "unread_parts.xlsx")

    def fn(wb):
        ws = wb["Chỉ tiêu"]
        ws["G14"] = "Trong đó 2 phóng sự truyền hình"   # a note in the table: not consolidated
        ws["C22"] = "Số tin bài khác"                   # figures on a row without a code
        ws["E22"] = 7
        ws["F22"] = 30
        ws["H9"] = "Kế hoạch năm"                      # a column the table does not have
        ws["H11"] = 5
        ws["H12"] = 200
        act = wb["Hoạt động"]
        act["H1"] = "Thời lượng (phút)"                 # a column the form does not have
        act["H2"] = 90
        act["H3"] = 5
        # Two activities after five blank rows (the table ends after three).
        for col, v in zip("BCDEF", ["28/10/2026", "Mạng xã hội", "Chia sẻ video Kết luận 14",
                                   "Fanpage Huyện ủy", 2400]):
            act[f"{col}10"] = v
        for col, v in zip("BCDEF", ["30/10/2026", "Báo in", "Bài viết trên Báo Lâm Đồng",
                                   "Báo Lâm Đồng", None]):
            if v is not None:
                act[f"{col}11"] = v
        extra = wb.create_sheet("Bổ sung")
        extra["A1"] = "Hoạt động bổ sung tháng 10"
        extra["A2"] = "Hội nghị báo cáo viên ngày 29/10"
        lists = wb.create_sheet("DM")                  # a hidden list sheet: machinery, not content
        for i, v in enumerate(g.FORMS, start=1):
            lists[f"A{i}"] = v
        lists.sheet_state = "hidden"
        narr = wb["Thuyết minh"]
        narr["A10"] = "Kết quả nổi bật"                 # a second block with the same label
        narr["B10"] = "Ra mắt mô hình dân vận khéo ở xã Tân Hà."
        narr["A14"] = "Ghi thêm: đã gửi kèm 5 ảnh hội nghị qua thư điện tử."

    edit(OUT / "unread_parts.xlsx", fn)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.iterdir():
        p.unlink()
    with tempfile.TemporaryDirectory() as td:
        line_breaks(Path(td))
    formulas()
    formulas_unknown()
    formulas_xlwt()
    formulas_script_ods()
    narrative_rows()
    unread_parts()
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT.relative_to(g.ROOT)}")


if __name__ == "__main__":
    main()
