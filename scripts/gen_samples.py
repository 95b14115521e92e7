#!/usr/bin/env python3
"""Generate the shipped sample submissions and the form-layout test fixtures.

What it makes (everything is deleted and recreated on each run):

  samples/inbox/                  one period (October 2026) of submissions from the 18-unit
                                  default roster, with every trap a clerk meets (see build_inbox)
  samples/received.tsv            "<path relative to samples/inbox>\\t<ISO 8601 received time>"
                                  one line per file; git does not keep mtimes, so this file is
                                  the source of truth for "received at" (the script also sets
                                  each file's mtime to it). Paths are the exact names on disk
                                  (the Đạ Huoai file name is NFD there too).
  samples/expected.json           what a correct consolidation of samples/inbox yields, computed
                                  from the values this script wrote (never by reading files back)
  tests/fixtures/layouts/         small single-purpose layout fixtures for the form locator,
                                  all holding the same Lâm Hà report, plus layouts.json

How to run (from the repository root):

  pip install openpyxl            # tested with openpyxl 3.1.5, Python 3.11
  apt-get update && apt-get install -y --no-install-recommends libreoffice-calc
  python3 scripts/gen_samples.py

LibreOffice (`soffice --headless --convert-to ...`) is required: some samples are .xls/.ods or
LibreOffice-resaved .xlsx files. CI does not run this script; the generated files are committed.

Determinism: fixed random seed and fixed values. Zip-based outputs (.xlsx, .ods) are repacked
with fixed zip timestamps and fixed document-property dates, so re-running gives byte-identical
files (checked with openpyxl 3.1.5 and LibreOffice 7.4.7; the LibreOffice .xls output was
byte-identical between runs too, but another LibreOffice version may write different bytes for
the same cells).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
INBOX = SAMPLES / "inbox"
LAYOUTS = ROOT / "tests" / "fixtures" / "layouts"

SEED = 20261031
TZ = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh
DEADLINE = datetime(2026, 11, 3, 17, 0, tzinfo=TZ)

# --------------------------------------------------------------------------------------------
# Domain data (mirrors shared/DOMAIN.md; the program reads these from config, we only use them
# to write realistic files and the expected results)
# --------------------------------------------------------------------------------------------

TITLE = "BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN, QUÁN TRIỆT KẾT LUẬN 14-KL/TW"
SUBTITLE = ("(Về chủ trương khuyến khích và bảo vệ cán bộ năng động, sáng tạo vì lợi ích chung"
            " - kèm theo Hướng dẫn của Ban Tuyên giáo Tỉnh ủy Lâm Đồng)")

GROUPS = [("I", "QUÁN TRIỆT"), ("II", "TUYÊN TRUYỀN"), ("III", "KẾT QUẢ")]

# code, group index, name, measure
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
IND = {c: (g, n, m) for c, g, n, m in INDICATORS}

GROUP_HU = "Huyện ủy, Thành ủy"
GROUP_DU = "Đảng ủy trực thuộc"
GROUP_BC = "Cơ quan báo chí"
ROSTER = [
    ("da-lat", "Thành ủy Đà Lạt", GROUP_HU),
    ("bao-loc", "Thành ủy Bảo Lộc", GROUP_HU),
    ("lac-duong", "Huyện ủy Lạc Dương", GROUP_HU),
    ("don-duong", "Huyện ủy Đơn Dương", GROUP_HU),
    ("duc-trong", "Huyện ủy Đức Trọng", GROUP_HU),
    ("lam-ha", "Huyện ủy Lâm Hà", GROUP_HU),
    ("dam-rong", "Huyện ủy Đam Rông", GROUP_HU),
    ("di-linh", "Huyện ủy Di Linh", GROUP_HU),
    ("bao-lam", "Huyện ủy Bảo Lâm", GROUP_HU),
    ("da-huoai", "Huyện ủy Đạ Huoai", GROUP_HU),
    ("da-teh", "Huyện ủy Đạ Tẻh", GROUP_HU),
    ("cat-tien", "Huyện ủy Cát Tiên", GROUP_HU),
    ("khoi-cq", "Đảng ủy Khối các cơ quan tỉnh", GROUP_DU),
    ("khoi-dn", "Đảng ủy Khối Doanh nghiệp tỉnh", GROUP_DU),
    ("quan-su", "Đảng ủy Quân sự tỉnh", GROUP_DU),
    ("cong-an", "Đảng ủy Công an tỉnh", GROUP_DU),
    ("bao-lam-dong", "Báo Lâm Đồng", GROUP_BC),
    ("dai-ptth", "Đài Phát thanh - Truyền hình Lâm Đồng", GROUP_BC),
]
UNIT_NAME = {u: n for u, n, _ in ROSTER}
UNIT_GROUP = {u: g for u, _, g in ROSTER}
GROUP_ORDER = [GROUP_HU, GROUP_DU, GROUP_BC]

FORMS = ["Hội nghị", "Báo in", "Báo điện tử", "Phát thanh", "Truyền hình",
         "Trang thông tin điện tử", "Mạng xã hội", "Sinh hoạt chi bộ", "Khác"]

TABLE_HEADER = ["STT", "Mã chỉ tiêu", "Nội dung chỉ tiêu", "Đơn vị tính", "Kỳ này",
                "Lũy kế từ đầu năm", "Ghi chú"]
ACT_HEADER = ["STT", "Ngày", "Hình thức", "Nội dung hoạt động", "Nơi đăng, địa điểm",
              "Số người dự, lượt tiếp cận", "Ghi chú"]
NARR_LABELS = ["Kết quả nổi bật", "Khó khăn, vướng mắc", "Đề xuất, kiến nghị"]
HEADER_LABELS = ["Đơn vị báo cáo:", "Kỳ báo cáo:", "Người lập biểu:", "Số điện thoại:", "Ngày lập:"]

DEFAULT_ORDER = ["G0", "HN", "NG", "G1", "TB", "TTDT", "MXH", "SH", "PB", "G2", "MH", "KT"]

HYPERLINK_TEXT = '=HYPERLINK("http://example.com","bấm vào đây")'

# --------------------------------------------------------------------------------------------
# Text material for realistic activities and narratives
# --------------------------------------------------------------------------------------------

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
         "K' Brơi", "Ka Thị Huệ", "Đỗ Minh Tuấn", "Võ Thị Ngọc Ánh", "Hoàng Văn Thắng",
         "Bùi Thị Lan", "Ngô Đức Huy", "Đặng Thị Mai Phương", "Huỳnh Tấn Lộc",
         "Phan Thị Thanh Tâm", "Trương Công Định", "Lương Thị Kim Oanh", "Vũ Ngọc Sơn",
         "Đinh Thị Bích Ngọc"]

NARR_POOL = {
    "Kết quả nổi bật": [
        "Đã tổ chức quán triệt Kết luận 14-KL/TW đến 100% chi bộ trực thuộc.",
        "Các cơ quan báo chí, trang thông tin điện tử đăng tải nhiều tin, bài phản ánh gương cán bộ năng động, sáng tạo.",
        "Nhân rộng mô hình \"Dân vận khéo\" gắn với cải cách hành chính, được nhân dân đồng tình.",
        "Biểu dương kịp thời các cán bộ có sáng kiến trong chuyển đổi số và phát triển kinh tế.",
        "Lồng ghép nội dung Kết luận trong sinh hoạt chi bộ thường kỳ, sinh hoạt chuyên đề.",
    ],
    "Khó khăn, vướng mắc": [
        "Một số cán bộ còn tâm lý e ngại, sợ sai, chưa mạnh dạn đề xuất cách làm mới.",
        "Kinh phí cho công tác tuyên truyền còn hạn chế; địa bàn rộng, giao thông khó khăn vào mùa mưa.",
        "Chưa có hướng dẫn cụ thể về tiêu chí xác định cán bộ năng động, sáng tạo.",
        "Đội ngũ báo cáo viên cơ sở còn mỏng, kiêm nhiệm nhiều việc.",
    ],
    "Đề xuất, kiến nghị": [
        "Đề nghị Ban Tuyên giáo Tỉnh ủy cung cấp thêm tài liệu tuyên truyền bằng tiếng dân tộc.",
        "Sớm ban hành quy định cụ thể về cơ chế bảo vệ cán bộ dám nghĩ, dám làm.",
        "Tổ chức tập huấn nghiệp vụ tuyên truyền trên mạng xã hội cho cán bộ cơ sở.",
        "Đề nghị tăng cường biểu dương, nhân rộng các điển hình tiên tiến trên báo, đài của tỉnh.",
    ],
}


# --------------------------------------------------------------------------------------------
# Form specification and writer
# --------------------------------------------------------------------------------------------

@dataclass
class Activity:
    date: date | str          # a real date or text "dd/mm/yyyy"
    form: str
    content: str
    place: str
    reach: int | str | None
    note: str | None = None


@dataclass
class FormSpec:
    unit_text: str | None                 # value of "Đơn vị báo cáo:" (None = empty cell)
    period_text: str
    preparer: str
    phone: str
    date_made: date | str
    values: dict                          # code -> (ky_nay, luy_ke) true ints
    cells: dict = field(default_factory=dict)   # (code, 0|1) -> raw cell value to write instead
    activities: list = field(default_factory=list)
    narrative: dict = field(default_factory=dict)
    sheet_names: tuple = ("Chỉ tiêu", "Hoạt động", "Thuyết minh")
    col0: int = 1                         # 1-based first column
    row0: int = 1                         # 1-based first row
    title_rows: tuple = (TITLE,)
    merged_title: bool = True
    blank_after_title: bool = True
    value_gap: int = 2                    # value column = label column + value_gap
    merged_unit: bool = False             # unit value merged from value column to the last column
    header_blank_after: tuple = ()        # header label indexes after which a blank row is inserted
    note_row: str | None = None           # text of an extra note row between header and table
    order: tuple = tuple(DEFAULT_ORDER)
    group_style: str = "split"            # "split": STT=I / content=QUÁN TRIỆT; "merged": "I. QUÁN TRIỆT" merged
    ghi_chu: dict = field(default_factory=dict)
    footer: bool = True
    act_title: bool = False
    narr_layout: str = "right"            # "right" or "below"
    narr_colon: bool = False              # labels written "Kết quả nổi bật:"


THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def put(ws, r, c, v, *, bold=False, border=False, wrap=False, center=False):
    """Write one cell. Strings are always text cells (even '=...'); dates get dd/mm/yyyy."""
    cell = ws.cell(row=r, column=c)
    if v is not None:
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"  # never let a leading '=' turn into a formula
        elif isinstance(v, (date, datetime)):
            cell.number_format = "dd/mm/yyyy"
    if bold:
        cell.font = BOLD
    if border:
        cell.border = BOX
    if center:
        cell.alignment = CENTER
    elif wrap:
        cell.alignment = WRAP
    return cell


def addr(r, c):
    return f"{get_column_letter(c)}{r}"


def write_form(spec: FormSpec, path: Path) -> dict:
    """Write the workbook; return the anchors (cell addresses) of every part, for layouts.json."""
    wb = Workbook()
    anchors: dict = {}
    c0 = spec.col0
    last = c0 + 6

    # ---- sheet 1: Chỉ tiêu ----
    ws = wb.active
    ws.title = spec.sheet_names[0]
    r = spec.row0
    for t in spec.title_rows:
        put(ws, r, c0, t, bold=True, center=spec.merged_title)
        if spec.merged_title:
            ws.merge_cells(start_row=r, start_column=c0, end_row=r, end_column=last)
            ws.row_dimensions[r].height = 32
        r += 1
    if spec.blank_after_title:
        r += 1
    header_vals = [spec.unit_text, spec.period_text, spec.preparer, spec.phone, spec.date_made]
    keys = ["unit", "period", "preparer", "phone", "date_made"]
    for i, (label, val) in enumerate(zip(HEADER_LABELS, header_vals)):
        put(ws, r, c0, label, bold=True)
        vc = c0 + spec.value_gap
        put(ws, r, vc, val)
        if i == 0 and spec.merged_unit:
            ws.merge_cells(start_row=r, start_column=vc, end_row=r, end_column=last)
        anchors[f"{keys[i]}_label"] = addr(r, c0)
        anchors[f"{keys[i]}_value"] = addr(r, vc)
        r += 1
        if i in spec.header_blank_after:
            r += 1
    r += 1
    if spec.note_row:
        put(ws, r, c0, spec.note_row, wrap=False)
        anchors["note_row"] = addr(r, c0)
        r += 2
    for j, h in enumerate(TABLE_HEADER):
        put(ws, r, c0 + j, h, bold=True, border=True, center=True)
    anchors["table_header"] = addr(r, c0)
    ws.row_dimensions[r].height = 30
    r += 1
    stt = 0
    data_rows = {}
    for item in spec.order:
        if item.startswith("G"):
            roman, gname = GROUPS[int(item[1:])]
            if spec.group_style == "merged":
                put(ws, r, c0, f"{roman}. {gname}", bold=True, border=True)
                ws.merge_cells(start_row=r, start_column=c0, end_row=r, end_column=last)
            else:
                put(ws, r, c0, roman, bold=True, border=True, center=True)
                put(ws, r, c0 + 2, gname, bold=True, border=True)
                for j in (1, 3, 4, 5, 6):
                    put(ws, r, c0 + j, None, border=True)
            r += 1
            continue
        code = item
        stt += 1
        _, name, measure = IND[code]
        ky, lk = spec.values[code]
        ky = spec.cells.get((code, 0), ky)
        lk = spec.cells.get((code, 1), lk)
        put(ws, r, c0, stt, border=True, center=True)
        put(ws, r, c0 + 1, code, border=True, center=True)
        put(ws, r, c0 + 2, name, border=True, wrap=True)
        put(ws, r, c0 + 3, measure, border=True, center=True)
        put(ws, r, c0 + 4, ky, border=True)
        put(ws, r, c0 + 5, lk, border=True)
        put(ws, r, c0 + 6, spec.ghi_chu.get(code), border=True, wrap=True)
        data_rows[code] = r
        r += 1
    anchors["indicator_rows"] = data_rows
    anchors["ky_nay_col"] = get_column_letter(c0 + 4)
    anchors["luy_ke_col"] = get_column_letter(c0 + 5)
    if spec.footer:
        r += 1
        put(ws, r, c0 + 2, "NGƯỜI LẬP BIỂU", bold=True)
        put(ws, r, c0 + 4, "T/M BAN THƯỜNG VỤ", bold=True)
        put(ws, r + 1, c0 + 4, "PHÓ BÍ THƯ", bold=True)
        put(ws, r + 4, c0 + 2, spec.preparer)
    widths = [6, 10, 48, 12, 10, 12, 24]
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(c0 + j)].width = w

    # ---- sheet 2: Hoạt động ----
    ws = wb.create_sheet(spec.sheet_names[1])
    r = spec.row0
    if spec.act_title:
        put(ws, r, c0, "DANH SÁCH CÁC HOẠT ĐỘNG TUYÊN TRUYỀN, QUÁN TRIỆT KẾT LUẬN 14-KL/TW",
            bold=True, center=True)
        ws.merge_cells(start_row=r, start_column=c0, end_row=r, end_column=last)
        r += 2
    for j, h in enumerate(ACT_HEADER):
        put(ws, r, c0 + j, h, bold=True, border=True, center=True)
    anchors["activities_header"] = addr(r, c0)
    r += 1
    for k, a in enumerate(spec.activities, start=1):
        for j, v in enumerate([k, a.date, a.form, a.content, a.place, a.reach, a.note]):
            put(ws, r, c0 + j, v, border=True, wrap=(j in (3, 4, 6)))
        r += 1
    for j, w in enumerate([6, 12, 20, 60, 30, 14, 20]):
        ws.column_dimensions[get_column_letter(c0 + j)].width = w

    # ---- sheet 3: Thuyết minh ----
    ws = wb.create_sheet(spec.sheet_names[2])
    r = spec.row0
    put(ws, r, c0, "THUYẾT MINH SỐ LIỆU, KẾT QUẢ THỰC HIỆN", bold=True)
    r += 2
    narr_anchors = {}
    for label in NARR_LABELS:
        text = spec.narrative.get(label, "")
        put(ws, r, c0, label + (":" if spec.narr_colon else ""), bold=True, wrap=True)
        if spec.narr_layout == "right":
            put(ws, r, c0 + 1, text, wrap=True)
            narr_anchors[label] = {"label": addr(r, c0), "text": addr(r, c0 + 1)}
            r += 2
        else:
            put(ws, r + 1, c0, text, wrap=True)
            narr_anchors[label] = {"label": addr(r, c0), "text": addr(r + 1, c0)}
            r += 3
    anchors["narrative"] = narr_anchors
    ws.column_dimensions[get_column_letter(c0)].width = 24 if spec.narr_layout == "right" else 90
    ws.column_dimensions[get_column_letter(c0 + 1)].width = 90

    fixed = datetime(2026, 11, 2, 9, 0, 0)
    wb.properties.creator = spec.preparer
    wb.properties.created = fixed
    wb.save(path)
    normalize_zip(path)
    return anchors


# --------------------------------------------------------------------------------------------
# File-level helpers: deterministic zips, LibreOffice conversion
# --------------------------------------------------------------------------------------------

FIXED_ZIP_TIME = (2026, 11, 2, 9, 0, 0)
TS_RE = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")


MASTER_STYLES_RE = re.compile(rb"(<office:master-styles>)(.*?)(</office:master-styles>)", re.S)
MASTER_PAGE_RE = re.compile(rb"<style:master-page .*?</style:master-page>", re.S)


def sort_master_pages(data: bytes) -> bytes:
    """LibreOffice writes an .ods's per-sheet page styles in hash order, which changes from run
    to run; sort them by name so the bytes are stable (the order has no meaning)."""
    def fix(m):
        pages = MASTER_PAGE_RE.findall(m.group(2))
        if b"".join(pages) != m.group(2):
            return m.group(0)  # something else in there: leave it alone
        return m.group(1) + b"".join(sorted(pages)) + m.group(3)
    return MASTER_STYLES_RE.sub(fix, data)


def normalize_zip(path: Path) -> None:
    """Repack a zip container with fixed entry times and fixed document dates."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as out:
        for info, data in items:
            if info.filename in ("docProps/core.xml", "meta.xml"):
                data = TS_RE.sub(b"2026-11-02T09:00:00Z", data)
            if info.filename == "styles.xml":
                data = sort_master_pages(data)
            ni = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            ni.compress_type = info.compress_type
            ni.external_attr = 0o644 << 16
            out.writestr(ni, data)
    os.replace(tmp, path)


_LO_PROFILE = Path(tempfile.gettempdir()) / "gen_samples_lo_profile"

LO_FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
}


def lo_convert(src: Path, ext: str, dest: Path) -> None:
    """Convert src with LibreOffice to format ext and put the result at dest."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        sys.exit("LibreOffice not found: apt-get install -y --no-install-recommends libreoffice-calc")
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        src_copy = td / ("in" + src.suffix)
        shutil.copyfile(src, src_copy)
        outdir = td / "out"
        outdir.mkdir()
        cmd = [soffice, f"-env:UserInstallation={_LO_PROFILE.as_uri()}", "--headless",
               "--norestore", "--convert-to", LO_FILTERS[ext], "--outdir", str(outdir),
               str(src_copy)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        out = outdir / ("in." + ext)
        if res.returncode != 0 or not out.exists():
            sys.exit(f"LibreOffice conversion failed: {cmd}\n{res.stdout}\n{res.stderr}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, dest)
    if ext in ("xlsx", "ods"):
        normalize_zip(dest)


# --------------------------------------------------------------------------------------------
# Random but seeded content
# --------------------------------------------------------------------------------------------

def gen_values(rng: random.Random, kind: str = "district") -> dict:
    """Realistic October figures and year-to-date totals (Jan-Oct) for one unit."""
    if kind == "press":
        ky = {"HN": rng.randint(0, 1), "TB": rng.randint(120, 260), "TTDT": rng.randint(150, 320),
              "MXH": rng.randint(200, 420), "SH": rng.randint(1, 3), "PB": rng.randint(8, 25),
              "MH": 0, "KT": rng.randint(0, 2)}
        ky["NG"] = ky["HN"] * rng.randint(25, 60)
    else:
        ky = {"HN": rng.randint(1, 5), "TB": rng.randint(2, 15), "TTDT": rng.randint(1, 12),
              "MXH": rng.randint(5, 60), "SH": rng.randint(2, 25), "PB": rng.randint(0, 4),
              "MH": rng.randint(0, 2), "KT": rng.randint(0, 3)}
        ky["NG"] = ky["HN"] * rng.randint(30, 120)
    vals = {}
    for code in CODES:
        k = ky[code]
        prior = k * rng.randint(5, 9) + rng.randint(0, 6)
        if code == "NG":
            prior = ky["HN"] * rng.randint(4, 8) * rng.randint(30, 90) + rng.randint(0, 40)
        vals[code] = (k, k + prior)
    return vals


def ddmmyyyy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def gen_activities(rng: random.Random, n: int, unit_name: str, year: int, month: int,
                   forms: list | None = None, text_date_rate: float = 0.0) -> list:
    forms = forms or FORMS
    days = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    acts = []
    short = unit_name
    for _ in range(n):
        d = date(year, month, rng.randint(1, days))
        form = rng.choice(forms)
        p = rng.choice(PLACES)
        h = rng.choice(HEADLINES).format(p=p)
        if form == "Hội nghị":
            content = f"Hội nghị quán triệt Kết luận 14-KL/TW cho cán bộ, đảng viên {p}"
            place = f"Hội trường UBND {p}"
            reach = rng.randint(40, 300)
        elif form == "Báo in":
            content = f"Bài viết \"{h}\""
            place = f"Báo Lâm Đồng số {rng.randint(8100, 8400)}"
            reach = None
        elif form == "Báo điện tử":
            content = f"Tin \"{h}\""
            place = "baolamdong.vn"
            reach = rng.randint(800, 25000)
        elif form == "Phát thanh":
            content = f"Chuyên mục Xây dựng Đảng: {h}"
            place = "Đài PT-TH Lâm Đồng, kênh phát thanh LĐR"
            reach = None
        elif form == "Truyền hình":
            content = f"Phóng sự \"{h}\""
            place = "Kênh truyền hình LTV"
            reach = None
        elif form == "Trang thông tin điện tử":
            content = f"Đăng tin \"{h}\""
            place = f"Trang TTĐT {short}"
            reach = rng.randint(100, 3000)
        elif form == "Mạng xã hội":
            content = f"Chia sẻ bài viết \"{h}\" trên Fanpage, nhóm Zalo"
            place = f"Fanpage {short}"
            reach = rng.randint(150, 8000)
        elif form == "Sinh hoạt chi bộ":
            content = "Sinh hoạt chuyên đề về Kết luận 14-KL/TW, thảo luận tiêu chí cán bộ năng động, sáng tạo"
            place = f"Chi bộ thôn {rng.randint(1, 12)}, {p}"
            reach = rng.randint(12, 45)
        else:
            content = f"Treo băng rôn, khẩu hiệu tuyên truyền Kết luận 14-KL/TW tại {p}"
            place = p
            reach = None
        dv: date | str = d
        if text_date_rate and rng.random() < text_date_rate:
            dv = ddmmyyyy(d)
        acts.append(Activity(dv, form, content, place, reach,
                             "Phối hợp MTTQ" if rng.random() < 0.08 else None))
    acts.sort(key=lambda a: a.date if isinstance(a.date, date)
              else datetime.strptime(a.date, "%d/%m/%Y").date())
    return acts


def gen_narrative(rng: random.Random, multi: bool = True) -> dict:
    out = {}
    for label in NARR_LABELS:
        pool = NARR_POOL[label]
        k = rng.randint(2, 3) if multi else 1
        paras = rng.sample(pool, k)
        out[label] = "\n".join(f"- {p}" for p in paras) if multi else paras[0]
    return out


def phone(rng: random.Random) -> str:
    return f"0263 3822 {rng.randint(100, 999)}"


# --------------------------------------------------------------------------------------------
# The inbox scenario
# --------------------------------------------------------------------------------------------

@dataclass
class FileOut:
    rel: str                  # path relative to inbox, as on disk (may be NFD)
    unit: str | None          # expected unit id
    outcome: str              # accepted|superseded|other_period|rejected|unidentified|ignored
    received: datetime
    kind: str = "openpyxl"    # openpyxl|lo_xlsx|lo_xls|lo_ods|xls_as_xlsx|zero|truncated|raw
    spec: FormSpec | None = None
    raw: bytes | None = None
    has_warnings: bool = False


def t(day: int, hh: int, mm: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


def base_spec(rng: random.Random, unit: str, unit_text: str | None = None, *,
              period_text: str = "Tháng 10/2026", n_acts: int | None = None,
              kind: str = "district", forms=None, text_date_rate=0.0, month: int = 10,
              owner: str | None = None, **kw) -> FormSpec:
    name = UNIT_NAME[unit]
    values = gen_values(rng, kind)
    n = n_acts if n_acts is not None else rng.randint(3, 20)
    acts = gen_activities(rng, n, owner or name, 2026, month, forms, text_date_rate)
    made = rng.choice([date(2026, month % 12 + 1, rng.randint(1, 3)),
                       ddmmyyyy(date(2026, month % 12 + 1, rng.randint(1, 3)))])
    return FormSpec(unit_text=name if unit_text is None else unit_text, period_text=period_text,
                    preparer=rng.choice(NAMES), phone=phone(rng), date_made=made,
                    values=values, activities=acts, narrative=gen_narrative(rng), **kw)


def build_inbox(rng: random.Random) -> list[FileOut]:
    files: list[FileOut] = []
    REORDER_A = ("G0", "NG", "HN", "G1", "TB", "MXH", "TTDT", "PB", "SH", "G2", "KT", "MH")
    REORDER_B = ("G1", "TB", "TTDT", "MXH", "SH", "PB", "G0", "HN", "NG", "G2", "MH", "KT")

    # da-lat: written by openpyxl, re-saved by LibreOffice as .xlsx
    files.append(FileOut("TU Da Lat T10-2026.xlsx", "da-lat", "accepted", t(2, 9, 15), "lo_xlsx",
                         base_spec(rng, "da-lat", "TU Đà Lạt", n_acts=14,
                                   title_rows=(TITLE, SUBTITLE))))
    # bao-loc: .xls (Excel 97-2003) by LibreOffice, table starting in column B
    files.append(FileOut("TU Bảo Lộc - BC KL14 T10.xls", "bao-loc", "accepted", t(3, 10, 40),
                         "lo_xls", base_spec(rng, "bao-loc", period_text="10/2026", n_acts=9,
                                             col0=2, narr_layout="below")))
    # lac-duong: .ods by LibreOffice, every other activity date typed as text dd/mm/yyyy
    s = base_spec(rng, "lac-duong", period_text="T10/2026", n_acts=6)
    for a in s.activities[1::2]:
        a.date = ddmmyyyy(a.date)
    files.append(FileOut("HU Lạc Dương T10.ods", "lac-duong", "accepted", t(1, 14, 5), "lo_ods", s))
    # don-duong: first submission, then a corrected one (different figures); the later wins
    s1 = base_spec(rng, "don-duong", n_acts=7)
    files.append(FileOut("HU Đơn Dương - BC T10.xlsx", "don-duong", "superseded",
                         t(31, 16, 20, month=10), "openpyxl", s1))
    s2 = base_spec(rng, "don-duong", n_acts=8,
                   note_row="Ghi chú: số liệu đã điều chỉnh theo góp ý của Ban Tuyên giáo Tỉnh ủy ngày 02/11/2026.")
    s2.values = dict(s1.values)
    s2.values["HN"] = (s1.values["HN"][0] + 1, s1.values["HN"][1] + 1)
    s2.values["NG"] = (s1.values["NG"][0] + 85, s1.values["NG"][1] + 85)
    s2.values["TB"] = (s1.values["TB"][0] + 2, s1.values["TB"][1] + 2)
    files.append(FileOut("HU Đơn Dương - BC T10 (sửa lần 2).xlsx", "don-duong", "accepted",
                         t(3, 8, 45), "openpyxl", s2))
    # duc-trong: sheet "Chi tieu", indicators reordered, period "tháng 10 năm 2026"
    files.append(FileOut("BC KL14 - HU Đức Trọng (sửa lần 2).xlsx", "duc-trong", "accepted",
                         t(2, 15, 30), "openpyxl",
                         base_spec(rng, "duc-trong", "HU Đức Trọng",
                                   period_text="tháng 10 năm 2026", n_acts=11,
                                   sheet_names=("Chi tieu", "Hoạt động", "Thuyết minh"),
                                   order=REORDER_A, narr_colon=True)))
    # lam-ha: late (after 03/11 17:00) but before the send: accepted, late
    files.append(FileOut("HU Lâm Hà - BC T10.xlsx", "lam-ha", "accepted", t(3, 20, 30), "openpyxl",
                         base_spec(rng, "lam-ha", n_acts=5,
                                   sheet_names=("chi tiêu", "Hoạt động", "Thuyết minh"))))
    # di-linh: rejected: text "khoảng 20" and a negative number
    s = base_spec(rng, "di-linh", n_acts=4)
    s.cells[("TB", 0)] = "khoảng 20"
    s.cells[("PB", 0)] = -3
    files.append(FileOut("HU Di Linh T10.xlsx", "di-linh", "rejected", t(3, 11, 10), "openpyxl", s))
    # bao-lam (district): accepted with a warning, NG luy_ke typed as text "1.250"
    s = base_spec(rng, "bao-lam", n_acts=10, col0=2)
    s.values["NG"] = (min(s.values["NG"][0], 200), 1250)
    s.cells[("NG", 1)] = "1.250"
    files.append(FileOut("BaoLam_T10.xlsx", "bao-lam", "accepted", t(2, 10, 5), "openpyxl", s,
                         has_warnings=True))
    # da-huoai: file name in NFD on disk; an extra note row; narrative below labels
    files.append(FileOut(unicodedata.normalize("NFD", "HU Đạ Huoai - BC thang 10.xlsx"),
                         "da-huoai", "accepted", t(30, 15, 45, month=10), "openpyxl",
                         base_spec(rng, "da-huoai", n_acts=8,
                                   note_row="(Số liệu tính từ ngày 01/10/2026 đến ngày 31/10/2026)",
                                   narr_layout="below")))
    # da-teh: identified by the "Đơn vị báo cáo" cell only; reordered groups; one blank value (=0)
    s = base_spec(rng, "da-teh", n_acts=6, order=REORDER_B, group_style="merged")
    s.values["MH"] = (0, s.values["MH"][1])
    s.cells[("MH", 0)] = None
    files.append(FileOut("baocao_T10.xlsx", "da-teh", "accepted", t(1, 9, 30), "openpyxl", s))
    # cat-tien: only a September form -> other_period; the unit is missing for October
    files.append(FileOut("HU Cat Tien T9-2026.xlsx", "cat-tien", "other_period", t(2, 8, 20),
                         "openpyxl", base_spec(rng, "cat-tien", period_text="Tháng 9/2026",
                                               n_acts=5, month=9)))
    # khoi-cq: zero-byte file
    files.append(FileOut("ĐUK CCQ - BC T10.xlsx", "khoi-cq", "rejected", t(3, 16, 55), "zero"))
    # khoi-dn: a valid xlsx cut to half its bytes
    files.append(FileOut("DU Khoi DN T10.xlsx", "khoi-dn", "rejected", t(3, 9, 0), "truncated",
                         base_spec(rng, "khoi-dn", n_acts=4)))
    # quan-su: a real .xls saved under an .xlsx name (accepted; extension_mismatch warning)
    files.append(FileOut("DU Quan su T10.xlsx", "quan-su", "accepted", t(2, 14, 0), "xls_as_xlsx",
                         base_spec(rng, "quan-su", n_acts=3), has_warnings=True))
    # cong-an: warnings: luy_ke < ky_nay (TB), NG = 0 while HN > 0, an activity dated in September
    s = base_spec(rng, "cong-an", n_acts=9, title_rows=(TITLE, SUBTITLE), blank_after_title=False,
                  value_gap=3, merged_unit=True)
    s.values["TB"] = (6, 4)
    s.values["HN"] = (2, s.values["HN"][1])
    s.values["NG"] = (0, s.values["NG"][1])
    s.ghi_chu["NG"] = "Chưa tổng hợp"
    s.activities.insert(0, Activity(date(2026, 9, 28), "Hội nghị",
                                    "Hội nghị sơ kết công tác tuyên truyền quý III (lồng ghép Kết luận 14-KL/TW)",
                                    "Hội trường Công an tỉnh", 120))
    files.append(FileOut("DU Cong an tinh - BC KL14 T10.xlsx", "cong-an", "accepted", t(1, 10, 30),
                         "openpyxl", s, has_warnings=True))
    # bao-lam-dong (newspaper): ~420 activity rows, one content cell is a '=HYPERLINK(...)' string
    s = base_spec(rng, "bao-lam-dong", n_acts=420, kind="press", act_title=True,
                  forms=["Báo in", "Báo điện tử", "Báo điện tử", "Mạng xã hội", "Hội nghị",
                         "Sinh hoạt chi bộ"])
    s.activities[17].content = HYPERLINK_TEXT
    files.append(FileOut("BaoLamDong_T10.xlsx", "bao-lam-dong", "accepted", t(3, 14, 20),
                         "openpyxl", s))
    # dai-ptth (station): ~360 rows, in a subfolder named by the unit id, file name names no unit
    s = base_spec(rng, "dai-ptth", n_acts=360, kind="press", col0=2,
                  forms=["Phát thanh", "Truyền hình", "Truyền hình", "Mạng xã hội",
                         "Trang thông tin điện tử", "Sinh hoạt chi bộ"], text_date_rate=0.05)
    files.append(FileOut("dai-ptth/bao cao thang 10.xlsx", "dai-ptth", "accepted", t(2, 16, 50),
                         "openpyxl", s))
    # Book1.xlsx: a valid-looking October form that names no unit anywhere
    s = base_spec(rng, "dam-rong", "", n_acts=3, owner="đơn vị")
    s.unit_text = None
    files.append(FileOut("Book1.xlsx", None, "unidentified", t(1, 20, 12), "openpyxl", s))

    # junk that must be ignored
    owner = b"ktv".ljust(53, b" ")
    lock_xl = bytes([3]) + owner + b"\x00" + "ktv".encode("utf-16-le").ljust(108, b"\x00")
    files += [
        FileOut("~$BaoLam_T10.xlsx", None, "ignored", t(2, 10, 3), "raw", raw=lock_xl),
        FileOut(".~lock.BaoLamDong_T10.xlsx#", None, "ignored", t(3, 14, 18), "raw",
                raw=b",ktv,PC-BAOLAMDONG,03.11.2026 14:18,file:///C:/Users/ktv/AppData/Roaming/LibreOffice/4;\n"),
        FileOut("Thumbs.db", None, "ignored", t(30, 8, 0, month=10), "raw",
                raw=bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504),
        FileOut("desktop.ini", None, "ignored", t(30, 8, 0, month=10), "raw",
                raw=b"[.ShellClassInfo]\r\nIconResource=C:\\Windows\\System32\\imageres.dll,-3\r\n"),
        FileOut(".DS_Store", None, "ignored", t(1, 9, 31), "raw",
                raw=b"\x00\x00\x00\x01Bud1" + b"\x00" * 56),
        FileOut("ghi chu.txt", None, "ignored", t(2, 11, 0), "raw",
                raw="Các đơn vị gửi báo cáo tháng 10 trước 17h ngày 03/11/2026.\r\nĐ/c Hà theo dõi, nhắc Đam Rông.\r\n".encode("utf-8")),
    ]
    return files


def materialize(f: FileOut, tmp: Path) -> None:
    dest = INBOX / f.rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if f.kind == "openpyxl":
        write_form(f.spec, dest)
    elif f.kind in ("lo_xlsx", "lo_xls", "lo_ods", "xls_as_xlsx"):
        src = tmp / "src.xlsx"
        write_form(f.spec, src)
        ext = {"lo_xlsx": "xlsx", "lo_xls": "xls", "lo_ods": "ods", "xls_as_xlsx": "xls"}[f.kind]
        lo_convert(src, ext, dest)
    elif f.kind == "truncated":
        src = tmp / "src.xlsx"
        write_form(f.spec, src)
        data = src.read_bytes()
        dest.write_bytes(data[: len(data) // 2])
    elif f.kind == "zero":
        dest.write_bytes(b"")
    elif f.kind == "raw":
        dest.write_bytes(f.raw)
    else:
        raise ValueError(f.kind)
    ts = f.received.timestamp()
    os.utime(dest, (ts, ts))


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def zero_totals() -> dict:
    return {c: {"ky_nay": 0, "luy_ke": 0} for c in CODES}


def build_expected(files: list[FileOut]) -> dict:
    units = {}
    for uid, _, _ in ROSTER:
        units[uid] = {"status": "missing", "late": False, "file": None, "indicators": None,
                      "activity_rows": 0, "has_warnings": False}
    for f in files:
        if f.unit is None:
            continue
        u = units[f.unit]
        if f.outcome == "accepted":
            u.update({"status": "accepted", "late": f.received > DEADLINE, "file": nfc(f.rel),
                      "indicators": {c: {"ky_nay": f.spec.values[c][0], "luy_ke": f.spec.values[c][1]}
                                     for c in CODES},
                      "activity_rows": len(f.spec.activities), "has_warnings": f.has_warnings})
        elif f.outcome == "rejected":
            u.update({"status": "rejected", "late": f.received > DEADLINE, "file": nfc(f.rel)})
    totals = zero_totals()
    groups = {g: zero_totals() for g in GROUP_ORDER}
    for uid, u in units.items():
        if u["status"] != "accepted":
            continue
        for c in CODES:
            for k in ("ky_nay", "luy_ke"):
                totals[c][k] += u["indicators"][c][k]
                groups[UNIT_GROUP[uid]][c][k] += u["indicators"][c][k]
    return {
        "period": "2026-10",
        "deadline": DEADLINE.isoformat(),
        "notes": [
            "quan-su's file is a real .xls (BIFF8) under an .xlsx name: accepted, and has_warnings is"
            " true for the extension_mismatch warning (a warning in config/form-kl14.toml); its data"
            " has no other warning.",
            "bao-lam NG luy_ke is the text '1.250' (= 1250); da-teh MH ky_nay is a blank cell (= 0).",
            "cong-an warnings: TB luy_ke 4 < ky_nay 6; NG = 0 while HN = 2; the NG note 'Chưa tổng hợp' (G12) is not carried into the consolidation; one activity dated 28/09/2026"
            " (still counted in activity_rows).",
            "di-linh is rejected: TB ky_nay is the text 'khoảng 20' and PB ky_nay is -3.",
            "Keys are NFC; the Đạ Huoai file name is NFD on disk. received.tsv holds on-disk names.",
            "Text dates 'dd/mm/yyyy' in Hoạt động are valid (no warning): lac-duong (every other row),"
            " dai-ptth (a few rows). Ngày lập is a date cell in some files and text in others.",
            "BaoLamDong_T10.xlsx, sheet Hoạt động, cell D21 is the text"
            " '=HYPERLINK(\"http://example.com\",\"bấm vào đây\")' (a string cell, not a formula);"
            " it must stay text in the output.",
            "late: received after the deadline (lam-ha, 2026-11-03T20:30+07:00). Received times are in"
            " received.tsv (git keeps no mtimes).",
        ],
        "units": units,
        "files": {nfc(f.rel): {"unit": f.unit, "outcome": f.outcome} for f in files},
        "totals": totals,
        "groups": groups,
    }


# --------------------------------------------------------------------------------------------
# Layout fixtures
# --------------------------------------------------------------------------------------------

FIX_VALUES = {"HN": (2, 10), "NG": (150, 900), "TB": (5, 40), "TTDT": (3, 20), "MXH": (12, 80),
              "SH": (4, 30), "PB": (1, 6), "MH": (0, 2), "KT": (1, 3)}
FIX_ACTS = [
    Activity(date(2026, 10, 8), "Hội nghị",
             "Hội nghị quán triệt Kết luận 14-KL/TW cho cán bộ chủ chốt huyện",
             "Hội trường Huyện ủy Lâm Hà", 150),
    Activity(date(2026, 10, 15), "Trang thông tin điện tử",
             "Đăng tin \"Lâm Hà khuyến khích cán bộ dám nghĩ, dám làm\"",
             "Trang TTĐT huyện Lâm Hà", 1320),
    Activity(date(2026, 10, 24), "Sinh hoạt chi bộ",
             "Sinh hoạt chuyên đề về Kết luận 14-KL/TW", "Chi bộ thôn Tân Lập, xã Tân Hà", 28,
             "Lồng ghép sinh hoạt thường kỳ"),
]
FIX_NARR = {
    "Kết quả nổi bật": "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt.\n"
                       "- Trang TTĐT huyện đăng 3 tin, bài về gương cán bộ năng động.",
    "Khó khăn, vướng mắc": "Đội ngũ báo cáo viên cơ sở còn mỏng.",
    "Đề xuất, kiến nghị": "Đề nghị cung cấp thêm tài liệu tuyên truyền bằng tiếng K'Ho.",
}


def fix_spec(**kw) -> FormSpec:
    base = dict(unit_text="Huyện ủy Lâm Hà", period_text="Tháng 10/2026",
                preparer="Nguyễn Thị Hồng Nhung", phone="0263 3822 415",
                date_made=date(2026, 11, 2), values=dict(FIX_VALUES),
                activities=[Activity(**vars(a)) for a in FIX_ACTS], narrative=dict(FIX_NARR))
    base.update(kw)
    return FormSpec(**base)


def build_layouts(tmp: Path) -> None:
    LAYOUTS.mkdir(parents=True, exist_ok=True)
    entries = {}

    def add(name, spec, special, overrides=None, warnings=False, writer="openpyxl", anchors=None):
        if anchors is None:
            anchors = write_form(spec, LAYOUTS / name)
        entries[name] = {"special": special, "writer": writer,
                         "sheets": list(spec.sheet_names),
                         "indicator_overrides": overrides or {},
                         "expect_value_warnings": warnings, "anchors": anchors}

    std = fix_spec()
    add("standard.xlsx", std, "The reference layout: title merged A1:G1, header labels in A3:A7 "
        "with values in C3:C7, table header at row 9, group rows, 9 indicator rows, footer "
        "signature block after a blank row.")
    add("shifted.xlsx", fix_spec(col0=3, row0=6, header_blank_after=(0, 2)),
        "Every sheet starts at column C and row 6; blank rows inside the header block (after "
        "'Đơn vị báo cáo:' and after 'Người lập biểu:').")
    add("reordered.xlsx", fix_spec(order=("G2", "KT", "MH", "G0", "NG", "HN",
                                          "G1", "PB", "SH", "MXH", "TTDT", "TB")),
        "Indicator rows in a different order (groups III, I, II, codes reversed inside each group); "
        "group rows still present.")
    add("renamed_sheets.xlsx", fix_spec(sheet_names=("Chi tieu", "hoat dong", "Thuyet minh ")),
        "Sheets named 'Chi tieu', 'hoat dong', 'Thuyet minh ' (no diacritics, lower case, "
        "trailing space).")
    add("merged.xlsx", fix_spec(title_rows=(TITLE, SUBTITLE), blank_after_title=False, value_gap=3,
                                merged_unit=True, group_style="merged"),
        "Merged title cells A1:G1 and A2:G2; the unit name value is in merged cell D3:G3 (other "
        "header values in D4:D7); group rows are single merged cells A:G 'I. QUÁN TRIỆT'.")
    cells = {}
    for c, (k, l) in FIX_VALUES.items():
        cells[(c, 0)] = str(k)
        cells[(c, 1)] = str(l)
    cells[("NG", 1)] = "1.250"
    nt = fix_spec(cells=cells)
    nt.values = dict(FIX_VALUES)
    nt.values["NG"] = (150, 1250)
    add("numbers_as_text.xlsx", nt,
        "All indicator values (Kỳ này, Lũy kế) are text cells: '2', '150', ...; NG luy_ke is "
        "'1.250' (Vietnamese thousands separator = 1250) instead of 900. Activity reach stays numeric.",
        overrides={"NG": {"ky_nay": 150, "luy_ke": 1250}}, warnings=True)
    anchors = write_form(std, tmp / "std.xlsx")
    lo_convert(tmp / "std.xlsx", "ods", LAYOUTS / "libreoffice.ods")
    add("libreoffice.ods", std, "standard.xlsx converted to .ods by LibreOffice.",
        writer="libreoffice", anchors=anchors)
    lo_convert(tmp / "std.xlsx", "xls", LAYOUTS / "libreoffice.xls")
    add("libreoffice.xls", std, "standard.xlsx converted to .xls (Excel 97-2003, BIFF8) by LibreOffice.",
        writer="libreoffice", anchors=anchors)
    dt = fix_spec(date_made="02/11/2026")
    for a in dt.activities:
        a.date = ddmmyyyy(a.date)
    add("dates_as_text.xlsx", dt, "Activity dates (and 'Ngày lập') are text 'dd/mm/yyyy' cells, "
        "not date cells.")

    doc = {
        "about": "Layout fixtures for the form locator. Every file is the same valid October 2026 "
                 "report of Huyện ủy Lâm Hà; only the layout differs. Generated by "
                 "scripts/gen_samples.py. Anchors are 1-based A1 addresses of where the generator "
                 "put each part (indicator_rows: code -> row number).",
        "unit": "lam-ha",
        "unit_text": "Huyện ủy Lâm Hà",
        "period": "2026-10",
        "period_text": "Tháng 10/2026",
        "preparer": "Nguyễn Thị Hồng Nhung",
        "phone": "0263 3822 415",
        "date_made": "2026-11-02",
        "indicators": {c: {"ky_nay": k, "luy_ke": l} for c, (k, l) in FIX_VALUES.items()},
        "activities": [{"date": (a.date.isoformat()), "form": a.form, "content": a.content,
                        "place": a.place, "reach": a.reach, "note": a.note} for a in FIX_ACTS],
        "narrative": FIX_NARR,
        "files": entries,
    }
    (LAYOUTS / "layouts.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")


# --------------------------------------------------------------------------------------------

def main() -> None:
    rng = random.Random(SEED)
    for d in (INBOX, LAYOUTS):
        if d.exists():
            shutil.rmtree(d)
    INBOX.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        files = build_inbox(rng)
        for f in files:
            materialize(f, tmp)
        build_layouts(tmp)

    lines = [f"{f.rel}\t{f.received.isoformat()}" for f in sorted(files, key=lambda f: nfc(f.rel))]
    (SAMPLES / "received.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = build_expected(files)
    (SAMPLES / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    # sanity checks on what is on disk
    on_disk = sorted(str(p.relative_to(INBOX)) for p in INBOX.rglob("*") if p.is_file())
    assert sorted(f.rel for f in files) == on_disk, (on_disk, [f.rel for f in files])
    nfd = [p for p in on_disk if p != nfc(p)]
    assert len(nfd) == 1 and "Huoai" in nfd[0], nfd
    print(f"wrote {len(files)} inbox files, {len(list(LAYOUTS.iterdir()))} layout files")


if __name__ == "__main__":
    main()
