#!/usr/bin/env python3
"""Generate valid, filled KL14 report forms at benchmark sizes, fast, with the standard library only.

    python3 bench/gen_forms.py SIZE OUT_DIR        # SIZE: realistic | NxM (N units x M activity rows)

The .xlsx files are written as XML straight into a zip (openpyxl needs minutes for a million rows):
shared strings as Excel writes them, real date cells with a dd/mm/yyyy style, the header block and
the nine indicators of shared/DOMAIN.md on "Chỉ tiêu", one row per activity on "Hoạt động", the three
narrative blocks on "Thuyết minh". Every file is a valid October 2026 report: a correct run accepts
all of them with no error (district figures keep NG > 0 when HN > 0 and Lũy kế >= Kỳ này).

OUT_DIR receives:
  inbox/            one .xlsx per unit, named "<unit name> - BC KL14 T10-2026.xlsx",
                    mtime 02/11/2026 09:00 +07:00 (before the deadline: on time)
  config/           tonghop.toml (config/tonghop.toml of the repo with the paths pointed here,
                    settle_seconds = 0, mail to .eml files), form-kl14.toml (copied) and
                    roster.toml (the repo's when N <= 18, else units u0001.. "Đơn vị 0001"..)
  manifest.json     what was written: units, rows, cells, the expected totals
Sizes: "realistic" = the 18 units of the roster, 1,000 activity rows in all (the newspaper 420,
the station 360, the other 16 units 220 between them). "NxM": N units x M rows each; N <= 18 uses
the first N units of the roster, more uses a generated roster.

Deterministic: fixed seeds and fixed zip timestamps; the same SIZE gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sys
import tomllib
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
GENERATOR_VERSION = 1

SEED = 20261025
YEAR, MONTH = 2026, 10
PERIOD_TEXT = "Tháng 10/2026"
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=timezone(timedelta(hours=7)))
ZIP_TIME = (2026, 11, 2, 9, 0, 0)

TITLE = "BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN, QUÁN TRIỆT KẾT LUẬN 14-KL/TW"
GROUPS = [("I", "QUÁN TRIỆT"), ("II", "TUYÊN TRUYỀN"), ("III", "KẾT QUẢ")]
INDICATORS = [
    ("HN", 0, "Số hội nghị, buổi quán triệt Kết luận 14-KL/TW", "hội nghị"),
    ("NG", 0, "Số lượt cán bộ, đảng viên tham dự", "lượt người"),
    ("TB", 1, "Số tin, bài, phóng sự trên phương tiện thông tin đại chúng", "tin, bài"),
    ("TTDT", 1, "Số tin, bài trên trang thông tin điện tử của cơ quan, đơn vị", "tin, bài"),
    ("MXH", 1, "Số lượt tuyên truyền trên mạng xã hội", "lượt"),
    ("SH", 1, "Số buổi sinh hoạt thường kỳ có lồng ghép nội dung Kết luận", "buổi"),
    ("PB", 1, "Số tin, bài đấu tranh, phản bác quan điểm sai trái", "tin, bài"),
    ("MH", 2, "Số mô hình mới, giải pháp thí điểm được nhân rộng", "mô hình"),
    ("KT", 2, "Số cán bộ năng động, sáng tạo được biểu dương, khen thưởng", "người"),
]
CODES = [c for c, *_ in INDICATORS]
TABLE_HEADER = ["STT", "Mã chỉ tiêu", "Nội dung chỉ tiêu", "Đơn vị tính", "Kỳ này",
                "Lũy kế từ đầu năm", "Ghi chú"]
ACT_HEADER = ["STT", "Ngày", "Hình thức", "Nội dung hoạt động", "Nơi đăng, địa điểm",
              "Số người dự, lượt tiếp cận", "Ghi chú"]
NARR_LABELS = ["Kết quả nổi bật", "Khó khăn, vướng mắc", "Đề xuất, kiến nghị"]
FORMS = ["Hội nghị", "Báo in", "Báo điện tử", "Phát thanh", "Truyền hình",
         "Trang thông tin điện tử", "Mạng xã hội", "Sinh hoạt chi bộ", "Khác"]
PRESS_FORMS = ["Báo in", "Báo điện tử", "Báo điện tử", "Phát thanh", "Truyền hình",
               "Mạng xã hội", "Trang thông tin điện tử"]
PRESS_UNITS = {"bao-lam-dong", "dai-ptth"}

PLACES = ["xã Hiệp Thạnh", "thị trấn Liên Nghĩa", "xã Tân Hà", "xã Đinh Văn", "Phường 1",
          "Phường 9", "xã Lộc Thành", "xã Gia Hiệp", "xã Ka Đơn", "xã Đạ Nhar", "xã Phú Hội",
          "xã Đạ Oai", "xã Gung Ré", "xã Lộc An", "xã Xuân Trường", "xã Đạ Sar",
          "thị trấn Đạm Ri", "xã Quảng Trị", "xã Mỹ Đức", "xã Phước Cát 1"]
HEADLINES = [
    "Khuyến khích cán bộ dám nghĩ, dám làm, dám chịu trách nhiệm vì lợi ích chung",
    "Bảo vệ cán bộ năng động, sáng tạo: từ chủ trương đến hành động",
    "{p}: đổi mới cách làm, tạo đột phá trong nông nghiệp công nghệ cao",
    "Gương cán bộ trẻ dám nghĩ, dám làm ở {p}",
    "Đấu tranh phản bác luận điệu xuyên tạc về công tác cán bộ",
    "Tháo gỡ vướng mắc để cán bộ yên tâm đổi mới, sáng tạo",
    "Nhân rộng mô hình dân vận khéo tại {p}",
    "Cán bộ cơ sở {p} và những sáng kiến vì dân",
    "Kết luận 14-KL/TW: tạo động lực cho đội ngũ cán bộ",
    "Xây dựng cơ chế phát hiện, biểu dương cán bộ năng động, sáng tạo",
    "Không để cán bộ sợ sai, né tránh trách nhiệm",
    "Chuyển đổi số trong cải cách hành chính ở {p}",
    "Người bí thư chi bộ năng động ở {p}",
    "Phát huy vai trò nêu gương của cán bộ, đảng viên",
    "Đối thoại với cán bộ trẻ về đổi mới, sáng tạo",
]
NAMES = ["Nguyễn Thị Hồng Nhung", "Trần Văn Minh", "Lê Thị Thu Hà", "Phạm Quốc Bảo",
         "K' Brơi", "Ka Thị Huệ", "Đỗ Minh Tuấn", "Võ Thị Ngọc Ánh", "Hoàng Văn Thắng"]
NARRATIVE = {
    "Kết quả nổi bật": "- Đã tổ chức quán triệt Kết luận 14-KL/TW đến 100% chi bộ trực thuộc.\n"
                       "- Lồng ghép nội dung Kết luận trong sinh hoạt chi bộ thường kỳ.",
    "Khó khăn, vướng mắc": "- Một số cán bộ còn tâm lý e ngại, sợ sai, chưa mạnh dạn đề xuất cách làm mới.",
    "Đề xuất, kiến nghị": "- Tổ chức tập huấn nghiệp vụ tuyên truyền trên mạng xã hội cho cán bộ cơ sở.",
}

# Cell styles (indexes into cellXfs of STYLES below).
S_PLAIN, S_DATE, S_BOLD, S_BOX, S_HEAD, S_BOX_DATE, S_BOX_WRAP, S_TITLE = range(8)
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Times New Roman"/></font>\
<font><b/><sz val="11"/><name val="Times New Roman"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
<border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="8">\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1">\
<alignment horizontal="center" vertical="center" wrapText="1"/></xf>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">\
<alignment horizontal="center" vertical="center" wrapText="1"/></xf>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
EXCEL_EPOCH = date(1899, 12, 30)
COLS = "ABCDEFG"


class Strings:
    """The shared-string table of one workbook."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.count = 0  # references, as Excel counts them

    def __call__(self, s: str) -> int:
        self.count += 1
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.index)
        return i

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{escape(s)}</t></si>' if "\n" in s
            else f"<si><t>{escape(s)}</t></si>" for s in self.index)
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {NS} '
                f'count="{self.count}" uniqueCount="{len(self.index)}">{items}</sst>')


class SheetXml:
    """One worksheet's XML, built row by row."""

    def __init__(self, sst: Strings, widths: list[float]):
        self.sst = sst
        self.rows: list[str] = []
        self.merges: list[str] = []
        self.widths = widths
        self.last_row = 0

    def row(self, r: int, cells: list, style: int | list = S_PLAIN) -> None:
        """cells: values for columns A.. (None = no cell); str -> shared string, date -> serial."""
        out = [f'<row r="{r}">']
        for j, v in enumerate(cells):
            if v is None:
                continue
            s = style[j] if isinstance(style, list) else style
            ref = f"{COLS[j]}{r}"
            if isinstance(v, str):
                out.append(f'<c r="{ref}" s="{s}" t="s"><v>{self.sst(v)}</v></c>')
            elif isinstance(v, date):
                out.append(f'<c r="{ref}" s="{s}"><v>{(v - EXCEL_EPOCH).days}</v></c>')
            else:
                out.append(f'<c r="{ref}" s="{s}"><v>{v}</v></c>')
        out.append("</row>")
        self.rows.append("".join(out))
        self.last_row = r

    def xml(self) -> str:
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(self.widths))
        merges = (f'<mergeCells count="{len(self.merges)}">'
                  + "".join(f'<mergeCell ref="{m}"/>' for m in self.merges) + "</mergeCells>"
                  if self.merges else "")
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS} {NS_R}>'
                f'<dimension ref="A1:G{max(self.last_row, 1)}"/><cols>{cols}</cols><sheetData>'
                + "".join(self.rows) + f"</sheetData>{merges}"
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                "</worksheet>")


def gen_values(rng: random.Random, press: bool) -> dict:
    """Realistic October figures and year-to-date totals (same shape as scripts/gen_samples.py)."""
    if press:
        ky = {"HN": rng.randint(0, 1), "TB": rng.randint(120, 260), "TTDT": rng.randint(150, 320),
              "MXH": rng.randint(200, 420), "SH": rng.randint(1, 3), "PB": rng.randint(8, 25),
              "MH": 0, "KT": rng.randint(0, 2)}
        ky["NG"] = ky["HN"] * rng.randint(25, 60)
    else:
        ky = {"HN": rng.randint(1, 5), "TB": rng.randint(2, 15), "TTDT": rng.randint(1, 12),
              "MXH": rng.randint(5, 60), "SH": rng.randint(2, 25), "PB": rng.randint(0, 4),
              "MH": rng.randint(0, 2), "KT": rng.randint(0, 3)}
        ky["NG"] = ky["HN"] * rng.randint(30, 120)
    return {c: (ky[c], ky[c] * rng.randint(6, 10) + rng.randint(0, 6)) for c in CODES}


def gen_activity(rng: random.Random, unit_name: str, forms: list[str]) -> list:
    d = date(YEAR, MONTH, rng.randint(1, 31))
    form = rng.choice(forms)
    p = rng.choice(PLACES)
    h = rng.choice(HEADLINES).format(p=p)
    if form == "Hội nghị":
        content, place, reach = (f"Hội nghị quán triệt Kết luận 14-KL/TW cho cán bộ, đảng viên {p}",
                                 f"Hội trường UBND {p}", rng.randint(40, 300))
    elif form == "Báo in":
        content, place, reach = f'Bài viết "{h}"', f"Báo Lâm Đồng số {rng.randint(8100, 8400)}", None
    elif form == "Báo điện tử":
        content, place, reach = f'Tin "{h}"', "baolamdong.vn", rng.randint(800, 25000)
    elif form == "Phát thanh":
        content, place, reach = (f"Chuyên mục Xây dựng Đảng: {h}",
                                 "Đài PT-TH Lâm Đồng, kênh phát thanh LĐR", None)
    elif form == "Truyền hình":
        content, place, reach = f'Phóng sự "{h}"', "Kênh truyền hình LTV", None
    elif form == "Trang thông tin điện tử":
        content, place, reach = f'Đăng tin "{h}"', f"Trang TTĐT {unit_name}", rng.randint(100, 3000)
    elif form == "Mạng xã hội":
        content, place, reach = (f'Chia sẻ bài viết "{h}" trên Fanpage, nhóm Zalo',
                                 f"Fanpage {unit_name}", rng.randint(150, 8000))
    elif form == "Sinh hoạt chi bộ":
        content, place, reach = ("Sinh hoạt chuyên đề về Kết luận 14-KL/TW, thảo luận tiêu chí cán "
                                 "bộ năng động, sáng tạo",
                                 f"Chi bộ thôn {rng.randint(1, 12)}, {p}", rng.randint(12, 45))
    else:
        content, place, reach = (f"Treo băng rôn, khẩu hiệu tuyên truyền Kết luận 14-KL/TW tại {p}",
                                 p, None)
    note = "Phối hợp MTTQ" if rng.random() < 0.08 else None
    return [d, form, content, place, reach, note]


def write_form(path: Path, unit_id: str, unit_name: str, n_rows: int, seed: int) -> dict:
    """Write one unit's report; return its figures and row count."""
    rng = random.Random(seed)
    press = unit_id in PRESS_UNITS
    values = gen_values(rng, press)
    sst = Strings()

    # ---- Chỉ tiêu ----
    ws = SheetXml(sst, [6, 10, 48, 12, 10, 12, 24])
    ws.row(1, [TITLE], S_TITLE)
    ws.merges.append("A1:G1")
    made = date(2026, 11, rng.randint(1, 2))
    header = [("Đơn vị báo cáo:", unit_name), ("Kỳ báo cáo:", PERIOD_TEXT),
              ("Người lập biểu:", rng.choice(NAMES)),
              ("Số điện thoại:", f"0263 3822 {rng.randint(100, 999)}"), ("Ngày lập:", made)]
    for i, (label, value) in enumerate(header):
        ws.row(3 + i, [label, None, value], [S_BOLD, S_PLAIN, S_DATE if i == 4 else S_PLAIN])
    r = 9
    ws.row(r, TABLE_HEADER, S_HEAD)
    r += 1
    stt = 0
    for g, (roman, gname) in enumerate(GROUPS):
        ws.row(r, [roman, None, gname, None, None, None, None], [S_HEAD, S_BOX] + [S_BOX] * 5)
        r += 1
        for code, group, name, measure in INDICATORS:
            if group != g:
                continue
            stt += 1
            ky, lk = values[code]
            ws.row(r, [stt, code, name, measure, ky, lk, None],
                   [S_BOX, S_BOX, S_BOX_WRAP, S_BOX, S_BOX, S_BOX, S_BOX])
            r += 1
    ws.row(r + 1, [None, None, "NGƯỜI LẬP BIỂU", None, "T/M BAN THƯỜNG VỤ"], S_BOLD)
    sheet1 = ws.xml()

    # ---- Hoạt động ----
    ws = SheetXml(sst, [6, 12, 22, 60, 30, 16, 24])
    ws.row(1, ACT_HEADER, S_HEAD)
    forms = PRESS_FORMS if press else FORMS
    acts = sorted((gen_activity(rng, unit_name, forms) for _ in range(n_rows)), key=lambda a: a[0])
    act_styles = [S_BOX, S_BOX_DATE, S_BOX, S_BOX_WRAP, S_BOX_WRAP, S_BOX, S_BOX_WRAP]
    for k, a in enumerate(acts, start=1):
        ws.row(k + 1, [k] + a, act_styles)
    sheet2 = ws.xml()

    # ---- Thuyết minh ----
    ws = SheetXml(sst, [24, 90])
    ws.row(1, ["THUYẾT MINH SỐ LIỆU, KẾT QUẢ THỰC HIỆN"], S_BOLD)
    for i, label in enumerate(NARR_LABELS):
        ws.row(3 + 2 * i, [label, NARRATIVE[label]], [S_BOLD, S_BOX_WRAP])
    sheet3 = ws.xml()

    sheets = ["Chỉ tiêu", "Hoạt động", "Thuyết minh"]
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType='
                      '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in (1, 2, 3))
            + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>",
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>",
        "docProps/core.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{escape(header[2][1])}</dc:creator>"
            '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-02T09:00:00Z</dcterms:created>'
            "</cp:coreProperties>",
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {NS} {NS_R}><sheets>'
            + "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, n in enumerate(sheets, start=1))
            + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
                      f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in (1, 2, 3))
            + '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet1,
        "xl/worksheets/sheet2.xml": sheet2,
        "xl/worksheets/sheet3.xml": sheet3,
        "xl/sharedStrings.xml": sst.xml(),
    }
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, text.encode("utf-8"))
    os.replace(tmp, path)
    ts = RECEIVED.timestamp()
    os.utime(path, (ts, ts))
    return {"values": values, "rows": n_rows}


def roster_units() -> list[tuple[str, str, str]]:
    """(id, name, group) of the repo's roster, in order."""
    with open(CONFIG / "roster.toml", "rb") as f:
        return [(u["id"], u["name"], u["group"]) for u in tomllib.load(f)["unit"]]


def plan(size: str) -> tuple[list[tuple[str, str, str]], list[int], bool]:
    """Units, rows per unit, and whether the roster is the repo's."""
    roster = roster_units()
    if size == "realistic":
        rng = random.Random(SEED)
        rows = {"bao-lam-dong": 420, "dai-ptth": 360}
        others = [u for u, _, _ in roster if u not in rows]
        counts = [rng.randint(5, 22) for _ in others]
        left, i = 1000 - sum(rows.values()) - sum(counts), 0
        while left:
            step = 1 if left > 0 else -1
            counts[i % len(counts)] += step
            left -= step
            i += 1
        rows.update(zip(others, counts))
        return roster, [rows[u] for u, _, _ in roster], True
    m = re.fullmatch(r"(\d+)x(\d+)", size)
    if not m:
        sys.exit(f"gen_forms.py: size {size!r}: expected 'realistic' or NxM (e.g. 18x5000)")
    n, per = int(m.group(1)), int(m.group(2))
    if n <= len(roster):
        return roster[:n], [per] * n, n == len(roster)
    groups = max(1, min(10, n // 20))
    units = [(f"u{i:04d}", f"Đơn vị {i:04d}", f"Nhóm {(i - 1) * groups // n + 1:02d}")
             for i in range(1, n + 1)]
    return units, [per] * n, False


def write_config(out: Path, units, own_roster: bool) -> Path:
    cfg = out / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG / "form-kl14.toml", cfg / "form-kl14.toml")
    if own_roster:
        shutil.copyfile(CONFIG / "roster.toml", cfg / "roster.toml")
    else:
        lines = ["# Benchmark roster written by bench/gen_forms.py.\n"]
        for uid, name, group in units:
            lines.append(f'[[unit]]\nid = "{uid}"\nname = "{name}"\ngroup = "{group}"\n\n')
        (cfg / "roster.toml").write_text("".join(lines), encoding="utf-8")
    main = (CONFIG / "tonghop.toml").read_text(encoding="utf-8")
    edits = [
        (r'(?m)^roster = ".*"$', 'roster = "roster.toml"'),
        (r'(?m)^form = ".*"$', 'form = "form-kl14.toml"'),
        (r'(?m)^inbox = ".*"$', 'inbox = "../inbox"'),
        (r'(?m)^out = ".*"$', 'out = "../out"'),
        (r'(?m)^data = ".*"$', 'data = "../data"'),
        (r"(?m)^settle_seconds = \d+$", "settle_seconds = 0"),
        (r'(?m)^transport = ".*"$', 'transport = "file"'),
        (r'(?m)^dir = ".*"$', 'dir = "../out/outbox"'),
    ]
    for pattern, repl in edits:
        main, n = re.subn(pattern, repl, main)
        if n != 1:
            sys.exit(f"gen_forms.py: config/tonghop.toml: expected one line matching {pattern}")
    path = cfg / "tonghop.toml"
    path.write_text(main, encoding="utf-8")
    return path


def generate(size: str, out: Path) -> dict:
    units, rows, own_roster = plan(size)
    if out.exists():
        shutil.rmtree(out)
    inbox = out / "inbox"
    inbox.mkdir(parents=True)
    config = write_config(out, units, own_roster)
    totals = {c: [0, 0] for c in CODES}
    files = []
    for k, ((uid, name, _), n) in enumerate(zip(units, rows)):
        path = inbox / f"{name} - BC KL14 T10-2026.xlsx"
        got = write_form(path, uid, name, n, SEED * 7919 + k)
        for c, (ky, lk) in got["values"].items():
            totals[c][0] += ky
            totals[c][1] += lk
        files.append({"unit": uid, "file": path.name, "rows": n, "bytes": path.stat().st_size})
    total_rows = sum(rows)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "size": size,
        "units": len(units),
        "activity_rows": total_rows,
        "input_bytes": sum(f["bytes"] for f in files),
        "period": f"{YEAR}-{MONTH:02d}",
        "config": str(config),
        "inbox": str(inbox),
        "totals": {c: {"ky_nay": v[0], "luy_ke": v[1]} for c, v in totals.items()},
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    return manifest


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    m = generate(sys.argv[1], Path(sys.argv[2]).resolve())
    print(f"{m['size']}: {m['units']} files, {m['activity_rows']} activity rows, "
          f"{m['input_bytes'] / 1e6:.1f} MB in {m['inbox']}")


if __name__ == "__main__":
    main()
