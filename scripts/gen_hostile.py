#!/usr/bin/env python3
"""Generate the corpus of hostile files: what the readers must survive, and what a clerk is told.

Every workbook case is the same valid October 2026 report of "Huyện ủy Lâm Hà" (the report of
tests/fixtures/layouts/standard.xlsx, written with scripts/gen_samples.py's writer) with exactly one
hostile part, except where a case says otherwise. Each case's expected outcome is in cases.json.

How to run (from the repository root):

  pip install openpyxl msoffcrypto-tool  # tested: openpyxl 3.1.5, msoffcrypto-tool 6.1.0, Py 3.11
  apt-get install -y --no-install-recommends libreoffice-calc   # for `small` only

  python3 scripts/gen_hostile.py small
      Deletes and recreates tests/fixtures/hostile/ with the SMALL cases (each well under 100 KB,
      committed), legacy_encodings.json and cases.json (which lists EVERY case: small, large and
      runtime). Needs LibreOffice (.xls files) and msoffcrypto-tool (encrypted.xlsx).

  python3 scripts/gen_hostile.py large DIR [FILE ...]
      Writes the LARGE cases (or only the named ones) into DIR, plus DIR/cases.json listing the
      cases written. Meant for tests at run time: standard library + openpyxl only; about 1 s per
      zip bomb (1 GiB assembled from one compressed block, not compressed byte by byte), 5 s for
      rows_1m.xlsx (26 MB), under 1 s for cols_16384.xlsx; peak memory about 45 MB.

  python3 scripts/gen_hostile.py verify [DIR]
      Re-checks that the files in DIR (default tests/fixtures/hostile/) are what cases.json says:
      zip structure, declared and real sizes, the hostile part present, the rest a valid report.
      Add --lo to also open the valid-looking workbooks with LibreOffice (headless, slower).

cases.json, one entry per case:
  {"file": name on disk, "size": "small" | "large" | "runtime",
   "what": what the file is,
   "inbox_path": where a test should put it in a fresh inbox so that the expectation holds
                 (files whose content cannot be read are put in the folder "lam-ha/", named by the
                 unit id, so that they are rejected for the unit rather than "unidentified"),
   "unit": the unit expected to be identified (or null),
   "expect": {"outcome": "rejected" | "accepted" | "ignored" | "unidentified",
              "severity": "error" | "warning" | null,   (of the finding below)
              "finding_kind": the Finding kind (or null: none, or not pinned, see note),
              "message_contains": a phrase the Vietnamese message must contain (or null)},
   "today": what the code of the day (src/pipeline/read.rs) does, where it differs,
   "note": anything else a test writer needs, "details": facts to check in the output,
   "extra": true for cases added beyond the issue's list}
Run each case alone in a fresh inbox: many hold the same unit's report and would supersede each
other. The period is October 2026 (run for 2026-10).

Determinism: fixed values, fixed zip entry times, a seeded "random" source for the encryption
salt and keys; re-running gives byte-identical files (the LibreOffice .xls output may differ with
another LibreOffice version; checked with 7.4.7).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_samples as gs  # noqa: E402  (the form writer, the reference values, LibreOffice)

from openpyxl import load_workbook  # noqa: E402
from openpyxl.styles import Font  # noqa: E402

ROOT = gs.ROOT
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"

UNIT = "lam-ha"
UNIT_TEXT = "Huyện ủy Lâm Hà"
IN_UNIT_FOLDER = UNIT + "/"

# Parts of a workbook written by gen_samples.write_form (openpyxl names them in this order).
P_IND = "xl/worksheets/sheet1.xml"    # Chỉ tiêu
P_ACT = "xl/worksheets/sheet2.xml"    # Hoạt động
P_NARR = "xl/worksheets/sheet3.xml"   # Thuyết minh
P_CT = "[Content_Types].xml"
P_WB = "xl/workbook.xml"
P_WB_RELS = "xl/_rels/workbook.xml.rels"

FIXED_ZIP_TIME = gs.FIXED_ZIP_TIME
MTIME = gs.datetime(2026, 11, 2, 9, 0, tzinfo=gs.TZ).timestamp()
MiB = 1 << 20
GiB = 1 << 30


# ============================================================================================
# Legacy Vietnamese encodings (TCVN3 / ABC, VNI-Windows), as the text reads once stored as Unicode
# ============================================================================================
#
# Before Unicode, Vietnamese was typed in 8-bit fonts. Excel stores whatever characters the
# keyboard driver sent, i.e. the Windows-1252 characters of the font's byte codes; every code used
# below is in 0xA1..0xFE, where Windows-1252 equals Latin-1. So a TCVN3 "Huyện ủy Lâm Hà" is stored
# as the Unicode text "HuyÖn ñy L©m Hµ" and shows as such with any Unicode font.
#
# TCVN3 (TCVN 5712:1993 "VN3", the ABC fonts .VnTime, .VnArial...): one byte per letter; only the
# lower-case toned letters and Ă Â Ê Ô Ơ Ư Đ have codes. Upper-case toned letters were typed with
# the same codes in the upper-case font (.VnTimeH): the text itself does not know the case.
TCVN3_TO_UNICODE = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
TCVN3 = {chr(b): u for b, u in TCVN3_TO_UNICODE.items()}          # legacy char -> Unicode
UNICODE_TO_TCVN3 = {u: chr(b) for b, u in TCVN3_TO_UNICODE.items()}

# VNI-Windows (VNI-Times...): a base letter followed by one or two "mark" bytes; ơ ư đ and some
# toned i/y are single bytes. For each vowel: the letter, then sắc, huyền, hỏi, ngã, nặng.
_VNI_LOWER = [
    ("a", ["a", "aù", "aø", "aû", "aõ", "aï"]),
    ("â", ["aâ", "aá", "aà", "aå", "aã", "aä"]),
    ("ă", ["aê", "aé", "aè", "aú", "aü", "aë"]),
    ("e", ["e", "eù", "eø", "eû", "eõ", "eï"]),
    ("ê", ["eâ", "eá", "eà", "eå", "eã", "eä"]),
    ("i", ["i", "í", "ì", "æ", "ó", "ò"]),
    ("o", ["o", "où", "oø", "oû", "oõ", "oï"]),
    ("ô", ["oâ", "oá", "oà", "oå", "oã", "oä"]),
    ("ơ", ["ô", "ôù", "ôø", "ôû", "ôõ", "ôï"]),
    ("u", ["u", "uù", "uø", "uû", "uõ", "uï"]),
    ("ư", ["ö", "öù", "öø", "öû", "öõ", "öï"]),
    ("y", ["y", "yù", "yø", "yû", "yõ", "î"]),
]
_TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]  # -, sắc, huyền, hỏi, ngã, nặng


def _build_vni() -> dict:
    table = {}
    for base, seqs in _VNI_LOWER:
        for tone, seq in zip(_TONES, seqs):
            lower = unicodedata.normalize("NFC", base + tone)
            for legacy, uni in ((seq, lower), (seq.upper(), lower.upper())):
                if legacy != uni:
                    table[legacy] = uni
    table["ñ"] = "đ"
    table["Ñ"] = "Đ"
    return table


VNI = _build_vni()                                   # legacy sequence -> Unicode
UNICODE_TO_VNI = {u: s for s, u in VNI.items()}
# 12 vowels x 6 forms + đ, in both cases, less the 8 forms per case that are already Unicode
# (a e i o u y í ì).
assert len(TCVN3) == 74 and len(VNI) == 2 * (12 * 6 + 1 - 8), (len(TCVN3), len(VNI))


def to_tcvn3(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in UNICODE_TO_TCVN3:
            out.append(UNICODE_TO_TCVN3[ch])
        elif ord(ch) < 0x80:
            out.append(ch)
        else:
            raise ValueError(f"{ch!r} has no TCVN3 (VN3) code; choose another text")
    return "".join(out)


def from_tcvn3(text: str) -> str:
    return "".join(TCVN3.get(ch, ch) for ch in text)


def to_vni(text: str) -> str:
    return "".join(UNICODE_TO_VNI.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def from_vni(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i:i + 2] in VNI:
            out.append(VNI[text[i:i + 2]])
            i += 2
        else:
            out.append(VNI.get(text[i], text[i]))
            i += 1
    return "".join(out)


def vietnamese_letters() -> set[str]:
    """Every letter of Vietnamese written in Unicode (NFC), both cases."""
    letters = set("abcdefghijklmnopqrstuvwxyzđ")
    for base in "aăâeêioôơuưy":
        for tone in _TONES:
            letters.add(unicodedata.normalize("NFC", base + tone))
    return letters | {ch.upper() for ch in letters}


def legacy_signs(table: dict) -> str:
    """Characters of a legacy table that never occur in Vietnamese Unicode text: seeing them in a
    word is the sign of that encoding (the other characters, e.g. 'â' 'ê' 'ó', are ambiguous)."""
    viet = vietnamese_letters()
    return "".join(sorted({ch for k in table for ch in k if ord(ch) >= 0x80 and ch not in viet}))


def legacy_json() -> dict:
    return {
        "about": (
            "Legacy Vietnamese encodings as the text reads once stored as Unicode in a workbook "
            "(the font's byte codes taken as Windows-1252 = Latin-1 characters). tcvn3: TCVN 5712 "
            "VN3 / ABC fonts (.VnTime...), one legacy character per letter; upper-case toned letters "
            "have no code of their own (typed with the lower-case codes in the .VnTimeH font), so a "
            "conversion yields lower case for them. vni: VNI-Windows fonts (VNI-Times...), a base "
            "letter followed by a mark character, or one character for ơ ư đ and some toned i/y; "
            "convert longest sequence first (two characters before one). Identity pairs (í, ì...) "
            "are left out. Generated by scripts/gen_hostile.py; used by legacy_tcvn3.xlsx and "
            "legacy_vni.xlsx."),
        "examples": {"tcvn3": {to_tcvn3(UNIT_TEXT): UNIT_TEXT}, "vni": {to_vni(UNIT_TEXT): UNIT_TEXT}},
        "signs_about": (
            "Many legacy characters are also ordinary Vietnamese letters in Unicode (TCVN3 'â' is "
            "'õ', VNI 'ô' is 'ơ'): converting Unicode text as if it were legacy corrupts it. The "
            "'signs' are the characters of each table that no Vietnamese Unicode text contains; "
            "detect an encoding by them (several in a cell, inside words), then convert. The two "
            "sets overlap (ñ, Ö, ï...): tell TCVN3 from VNI by VNI's pattern (a mark right after a "
            "base vowel: 'aø', 'eä', 'uû') or by converting both ways and keeping the one whose "
            "result matches known words (the unit names of the roster)."),
        "signs": {"tcvn3": legacy_signs(TCVN3), "vni": legacy_signs(VNI)},
        "tcvn3": dict(sorted(TCVN3.items())),
        "vni": dict(sorted(VNI.items(), key=lambda kv: (-len(kv[0]), kv[0]))),
    }


# ============================================================================================
# Zip helpers
# ============================================================================================

def read_parts(data: bytes) -> list[list]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [[i.filename, z.read(i.filename)] for i in z.infolist()]


def part(parts: list, name: str) -> bytes:
    for n, d in parts:
        if n == name:
            return d
    raise KeyError(name)


def set_part(parts: list, name: str, data: bytes) -> None:
    for p in parts:
        if p[0] == name:
            p[1] = data
            return
    parts.append([name, data])


def zip_parts(parts: list) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in parts:
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    return buf.getvalue()


def _dos_time() -> tuple[int, int]:
    y, mo, d, h, mi, s = FIXED_ZIP_TIME
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


@dataclass
class RawEntry:
    """A zip entry written by hand: compressed bytes and header fields as given (may lie)."""
    name: str
    comp: bytes | None          # None: no data of its own, points at another entry's local header
    crc: int
    usize: int                  # uncompressed size written in the headers
    method: int = 8
    same_header_as: str | None = None


def write_raw_zip(entries: list[RawEntry], out) -> None:
    """Write local headers + data, central directory, end record. Sizes are taken as given."""
    t, d = _dos_time()
    offsets: dict[str, tuple[int, int]] = {}   # name -> (local header offset, compressed size)
    pos = 0
    for e in entries:
        if e.comp is None:
            continue
        name = e.name.encode()
        lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, e.method, t, d, e.crc,
                         len(e.comp), e.usize, len(name), 0) + name
        out.write(lh)
        out.write(e.comp)
        offsets[e.name] = (pos, len(e.comp))
        pos += len(lh) + len(e.comp)
    cd = io.BytesIO()
    for e in entries:
        off, csize = offsets[e.same_header_as or e.name]
        name = e.name.encode()
        cd.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, e.method, t, d, e.crc,
                             csize, e.usize, len(name), 0, 0, 0, 0, 0o644 << 16, off) + name)
    cdb = cd.getvalue()
    out.write(cdb)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cdb),
                          pos, 0))


def deflate_raw(data: bytes, level: int = 9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def deflate_repeated(prefix: bytes, unit: bytes, count: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of prefix + unit*count + suffix, without compressing count units: after a full
    flush the compressor forgets its history, so the bytes for one unit can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "a full-flushed block must not depend on what came before"
    tail = c.compress(suffix) + c.flush()
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    return head + block * count + tail, crc, len(prefix) + len(unit) * count + len(suffix)


# ============================================================================================
# The base report and its variants
# ============================================================================================

def base_spec(**kw) -> gs.FormSpec:
    return gs.fix_spec(**kw)


def form_bytes(spec: gs.FormSpec | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "f.xlsx"
        gs.write_form(spec or base_spec(), p)
        return p.read_bytes()


_BASE: bytes | None = None
_ANCHORS: dict | None = None


def anchors() -> dict:
    """Where write_form put each part of the reference report (A1 addresses, indicator rows)."""
    global _ANCHORS
    if _ANCHORS is None:
        with tempfile.TemporaryDirectory() as td:
            _ANCHORS = gs.write_form(base_spec(), Path(td) / "a.xlsx")
    return _ANCHORS


def base_bytes() -> bytes:
    global _BASE
    if _BASE is None:
        _BASE = form_bytes()
    return _BASE


def xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def col_letter(c: int) -> str:  # 1-based
    s = ""
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def sub_once(pattern: str, repl, text: str) -> str:
    new, n = re.subn(pattern, repl, text, count=1, flags=re.S)
    assert n == 1, f"pattern not found: {pattern[:80]}"
    return new


def add_shared_strings(parts: list, sst_xml: bytes) -> None:
    """Add xl/sharedStrings.xml (openpyxl wrote inline strings, so there is none)."""
    set_part(parts, "xl/sharedStrings.xml", sst_xml)
    ct = part(parts, P_CT).decode()
    ct = ct.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType='
                    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
                    "</Types>")
    set_part(parts, P_CT, ct.encode())
    rels = part(parts, P_WB_RELS).decode()
    rels = rels.replace("</Relationships>", '<Relationship Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml" '
                        'Id="rId100" /></Relationships>')
    set_part(parts, P_WB_RELS, rels.encode())


def sst(strings: list[str]) -> bytes:
    body = "".join(f"<si><t>{xml_text(s)}</t></si>" for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{body}</sst>').encode()


def patch_sheet(parts: list, name: str, fn: Callable[[str], str]) -> None:
    set_part(parts, name, fn(part(parts, name).decode()).encode())


def variant(fn: Callable[[list], None], base: bytes | None = None) -> bytes:
    parts = read_parts(base or base_bytes())
    fn(parts)
    return zip_parts(parts)


# ============================================================================================
# Case registry
# ============================================================================================

@dataclass
class Case:
    file: str
    size: str                     # small | large | runtime
    what: str
    outcome: str
    kind: str | None
    message: str | None
    severity: str | None = None
    inbox_path: str | None = None
    unit: str | None = UNIT
    make: Callable[[Path], None] | None = None
    today: str | None = None
    note: str | None = None
    details: dict | None = None
    extra: bool = False

    def entry(self) -> dict:
        sev = self.severity
        if sev is None and self.kind is not None:
            sev = "error" if self.outcome in ("rejected", "unidentified") else "warning"
        e = {"file": self.file, "size": self.size, "what": self.what,
             "inbox_path": self.inbox_path if self.inbox_path is not None else self.file,
             "unit": self.unit,
             "expect": {"outcome": self.outcome, "severity": sev, "finding_kind": self.kind,
                        "message_contains": self.message}}
        for k in ("today", "note", "details"):
            if getattr(self, k) is not None:
                e[k] = getattr(self, k)
        if self.extra:
            e["extra"] = True
        return e


def writer(data_fn: Callable[[], bytes]) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        dest.write_bytes(data_fn())
    return make


# ---------------------------------------------------------------- unreadable and disguised files

def make_truncated() -> bytes:
    data = base_bytes()
    return data[: len(data) // 2]


def make_text_renamed() -> bytes:
    """The report typed as ';'-separated lines (a CSV saved under an .xlsx name). Longer than
    512 bytes, with a multi-byte character across byte 512 (as any Vietnamese text of that length
    may have), so a sniffer that decodes a fixed-size head must cope with a cut character."""
    lines = ["BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN, QUÁN TRIỆT KẾT LUẬN 14-KL/TW",
             f"Đơn vị báo cáo;{UNIT_TEXT}", "Kỳ báo cáo;Tháng 10/2026",
             "Mã chỉ tiêu;Kỳ này;Lũy kế từ đầu năm"]
    lines += [f"{c};{k};{l}" for c, (k, l) in gs.FIX_VALUES.items()]
    lines += ["STT;Ngày;Hình thức;Nội dung hoạt động;Nơi đăng, địa điểm;Số người dự"]
    lines += [f"{i};{gs.ddmmyyyy(a.date)};{a.form};{a.content};{a.place};{a.reach}"
              for i, a in enumerate(gs.FIX_ACTS, 1)]
    for pad in range(40):
        data = ("\r\n".join(lines[:1] + ["-" * (20 + pad)] + lines[1:]) + "\r\n").encode()
        try:
            data[:512].decode("utf-8")
        except UnicodeDecodeError:
            return data
    raise AssertionError("no padding puts a character across byte 512")


def make_html() -> bytes:
    rows = "".join(
        f"<tr><td>{i}</td><td>{c}</td><td>{xml_text(gs.IND[c][1])}</td><td>{gs.IND[c][2]}</td>"
        f"<td>{k}</td><td>{l}</td><td></td></tr>\n"
        for i, (c, (k, l)) in enumerate(gs.FIX_VALUES.items(), 1))
    head = "".join(f"<th>{xml_text(h)}</th>" for h in gs.TABLE_HEADER)
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">\n'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        "<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet>"
        "<x:Name>Chỉ tiêu</x:Name></x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook></xml>"
        "<![endif]--></head>\n<body>\n"
        f"<table border=\"1\"><tr><td colspan=\"7\"><b>{xml_text(gs.TITLE)}</b></td></tr>\n"
        f"<tr><td>Đơn vị báo cáo:</td><td></td><td>{UNIT_TEXT}</td></tr>\n"
        "<tr><td>Kỳ báo cáo:</td><td></td><td>Tháng 10/2026</td></tr>\n"
        f"<tr>{head}</tr>\n{rows}</table>\n</body>\n</html>\n").encode("utf-8")


def make_xml2003() -> bytes:
    rows = "".join(
        f'<Row><Cell><Data ss:Type="String">{c}</Data></Cell><Cell><Data ss:Type="Number">{k}'
        f'</Data></Cell><Cell><Data ss:Type="Number">{l}</Data></Cell></Row>\n'
        for c, (k, l) in gs.FIX_VALUES.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n'
        '<Worksheet ss:Name="Chỉ tiêu"><Table>\n'
        f'<Row><Cell><Data ss:Type="String">Đơn vị báo cáo:</Data></Cell><Cell><Data '
        f'ss:Type="String">{UNIT_TEXT}</Data></Cell></Row>\n'
        '<Row><Cell><Data ss:Type="String">Kỳ báo cáo:</Data></Cell><Cell><Data '
        'ss:Type="String">Tháng 10/2026</Data></Cell></Row>\n'
        f"{rows}</Table></Worksheet>\n</Workbook>\n").encode("utf-8")


class _SeededRandom:
    """Deterministic stand-in for secrets.token_bytes (only to make encrypted.xlsx reproducible)."""

    def __init__(self, seed: bytes):
        self.state = hashlib.sha256(seed).digest()

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            self.state = hashlib.sha256(self.state).digest()
            out += self.state
        return out[:n]


def make_encrypted() -> bytes:
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
        from msoffcrypto.method import ecma376_agile
    except ImportError:
        sys.exit("encrypted.xlsx needs msoffcrypto-tool: pip install msoffcrypto-tool")
    from msoffcrypto.method.container import ecma376_encrypted as container

    class FixedNow(gs.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 2, 2, 0, 0)

    saved = ecma376_agile._random_buffer, container.datetime
    ecma376_agile._random_buffer = _SeededRandom(b"tonghop hostile encrypted.xlsx")
    container.datetime = FixedNow   # the OLE directory's creation/modification times
    try:
        out = io.BytesIO()
        OOXMLFile(io.BytesIO(base_bytes())).encrypt("123", out)
    finally:
        ecma376_agile._random_buffer, container.datetime = saved
    return out.getvalue()


def make_lo(ext: str, src_bytes: Callable[[], bytes]) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        with tempfile.TemporaryDirectory() as td:
            src = Path(td) / "src.xlsx"
            src.write_bytes(src_bytes())
            gs.lo_convert(src, ext, dest)
    return make


# ---------------------------------------------------------------- zip bombs

BOMB_UNIT = b"A" * MiB
BOMB_COUNT = 1024               # 1 GiB of text in one cell


def bomb_sheet() -> tuple[bytes, bytes]:
    """The Hoạt động sheet split around the text of D2, where the 1 GiB string goes."""
    xml = part(read_parts(base_bytes()), P_ACT)
    m = re.search(rb'<c r="D2"[^>]*><is><t>([^<]*)</t>', xml)
    assert m
    return xml[: m.start(1)], xml[m.end(1):]


def bomb_xml_size() -> int:
    prefix, suffix = bomb_sheet()
    return len(prefix) + len(BOMB_UNIT) * BOMB_COUNT + len(suffix)


def bomb_entries(lie: bool) -> list[RawEntry]:
    entries = []
    prefix, suffix = bomb_sheet()
    for name, data in read_parts(base_bytes()):
        if name == P_ACT:
            comp, crc, usize = deflate_repeated(prefix, BOMB_UNIT, BOMB_COUNT, suffix)
            entries.append(RawEntry(name, comp, crc, len(data) if lie else usize))
        else:
            entries.append(RawEntry(name, deflate_raw(data), zlib.crc32(data), len(data)))
    return entries


def make_bomb(lie: bool) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        with open(dest, "wb") as f:
            write_raw_zip(bomb_entries(lie), f)
    return make


OVERLAP_KERNEL_MIB = 48
OVERLAP_COPIES = 24


def make_overlap_bomb(dest: Path) -> None:
    """Fifield-style: many central-directory entries share one local header and its data."""
    entries = []
    for name, data in read_parts(base_bytes()):
        entries.append(RawEntry(name, deflate_raw(data), zlib.crc32(data), len(data)))
    comp, crc, usize = deflate_repeated(b"<a>", b" " * MiB, OVERLAP_KERNEL_MIB, b"</a>")
    first = "xl/printerSettings/printerSettings1.bin"
    entries.append(RawEntry(first, comp, crc, usize))
    for i in range(2, OVERLAP_COPIES + 1):
        entries.append(RawEntry(f"xl/printerSettings/printerSettings{i}.bin", None, crc, usize,
                                same_header_as=first))
    with open(dest, "wb") as f:
        write_raw_zip(entries, f)


# ---------------------------------------------------------------- sheets too big, cells too far

def make_cell_far() -> bytes:
    def fn(parts):
        def sheet(x):
            x = sub_once(r'<dimension ref="[^"]*" />', '<dimension ref="A1:XFD1048576" />', x)
            return x.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                             "<is><t>x</t></is></c></row></sheetData>")
        patch_sheet(parts, P_ACT, sheet)
    return variant(fn)


COLS_ROW = 2


def make_cols(dest: Path) -> None:
    def fn(parts):
        def sheet(x):
            x = sub_once(r'<dimension ref="[^"]*" />', '<dimension ref="A1:XFD4" />', x)
            extra = "".join(f'<c r="{col_letter(c)}{COLS_ROW}"><v>{c}</v></c>'
                            for c in range(8, 16385))
            return sub_once(rf'(<row r="{COLS_ROW}">.*?)(</row>)', lambda m: m.group(1) + extra +
                            m.group(2), x)
        patch_sheet(parts, P_ACT, sheet)
    dest.write_bytes(variant(fn))


ROWS_TOTAL = 1_048_576


def make_rows(dest: Path) -> None:
    """Hoạt động with a header row and 1,048,575 activity rows, streamed into the zip."""
    parts = read_parts(base_bytes())
    act = part(parts, P_ACT).decode()
    head, rest = act.split("<sheetData>", 1)
    header_row = re.search(r'<row r="1">.*?</row>', rest, re.S).group(0)
    tail = rest.split("</sheetData>", 1)[1]
    head = sub_once(r'<dimension ref="[^"]*" />', f'<dimension ref="A1:G{ROWS_TOTAL}" />', head)
    acts = gs.FIX_ACTS
    strings = []
    for a in acts:
        strings += [a.form, a.content, a.place]
    add_shared_strings(parts, sst(strings))
    serial = [(a.date - gs.date(1899, 12, 30)).days for a in acts]
    # One template per reference activity; "%%d" stays for the row number (8 places).
    templ = []
    for k, a in enumerate(acts):
        templ.append(('<row r="%%d"><c r="A%%d"><v>%%d</v></c><c r="B%%d" s="9"><v>%d</v></c>'
                      '<c r="C%%d" t="s"><v>%d</v></c><c r="D%%d" t="s"><v>%d</v></c>'
                      '<c r="E%%d" t="s"><v>%d</v></c><c r="F%%d"><v>%d</v></c></row>')
                     % (serial[k], 3 * k, 3 * k + 1, 3 * k + 2, a.reach))
    with zipfile.ZipFile(dest, "w", compresslevel=1) as z:
        for name, data in parts:
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            if name != P_ACT:
                z.writestr(zi, data)
                continue
            with z.open(zi, "w") as w:
                w.write((head + "<sheetData>" + header_row).encode())
                batch = 20000
                for start in range(2, ROWS_TOTAL + 1, batch):
                    end = min(start + batch, ROWS_TOTAL + 1)
                    w.write("".join([templ[(r - 2) % 3] % (r, r, r - 1, r, r, r, r, r)
                                     for r in range(start, end)]).encode())
                w.write(("</sheetData>" + tail).encode())


def make_string_1mb() -> bytes:
    """openpyxl cuts strings to Excel's 32,767 characters, so the text is put in the XML."""
    para = "Đã tổ chức quán triệt Kết luận 14-KL/TW đến 100% chi bộ trực thuộc. "
    text = (para * (MiB // len(para) + 1))[:MiB]
    ref = anchors()["narrative"]["Kết quả nổi bật"]["text"]

    def fn(parts):
        patch_sheet(parts, P_NARR, lambda x: sub_once(
            rf'(<c r="{ref}"[^>]*><is>)<t>[^<]*</t>',
            lambda m: m.group(1) + '<t xml:space="preserve">' + xml_text(text) + "</t>", x))
    return variant(fn)


# ---------------------------------------------------------------- crafted XML

def make_sst_out_of_range() -> bytes:
    def fn(parts):
        add_shared_strings(parts, sst(["Hội nghị", "Hội trường Huyện ủy Lâm Hà"]))

        def sheet(x):
            x = sub_once(r'<c r="C2" s="(\d+)" t="inlineStr"><is><t>[^<]*</t></is></c>',
                         r'<c r="C2" s="\1" t="s"><v>0</v></c>', x)
            x = sub_once(r'<c r="E2" s="(\d+)" t="inlineStr"><is><t>[^<]*</t></is></c>',
                         r'<c r="E2" s="\1" t="s"><v>1</v></c>', x)
            return sub_once(r'<c r="D2" s="(\d+)" t="inlineStr"><is><t>[^<]*</t></is></c>',
                            r'<c r="D2" s="\1" t="s"><v>99999</v></c>', x)
        patch_sheet(parts, P_ACT, sheet)
    return variant(fn)


LOL = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))


def make_billion_laughs(late: bool) -> Callable[[], bytes]:
    def data() -> bytes:
        def fn(parts):
            pad = ""
            if late:  # a comment before the DOCTYPE pushes it past the first few KB
                pad = "<!-- " + "Báo cáo tháng 10/2026. " * 400 + "-->\n"
            doctype = f'<!DOCTYPE sst [\n<!ENTITY lol0 "lol">\n{LOL}]>\n'
            xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + pad + doctype +
                   '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>')
            add_shared_strings(parts, xml.encode())
            patch_sheet(parts, P_ACT, lambda x: sub_once(
                r'<c r="G2" s="(\d+)" t="n" />', r'<c r="G2" s="\1" t="s"><v>0</v></c>', x))
        return variant(fn)
    return data


NEST_DEPTH = 100_000


def make_deep_nesting() -> bytes:
    def fn(parts):
        nest = "<x>" * NEST_DEPTH + "</x>" * NEST_DEPTH
        patch_sheet(parts, P_ACT, lambda x: x.replace('<row r="3">', nest + '<row r="3">', 1))
    return variant(fn)


# ---------------------------------------------------------------- formulas, macros, links

FORMULA_TEXTS = [
    gs.HYPERLINK_TEXT,
    "=1+1",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
]


def formula_text_spec() -> gs.FormSpec:
    spec = base_spec()
    acts = [gs.Activity(**vars(a)) for a in gs.FIX_ACTS]
    acts[0].content = FORMULA_TEXTS[0]
    acts[1].content = FORMULA_TEXTS[1]
    acts[2].content = FORMULA_TEXTS[2]
    acts[2].note = FORMULA_TEXTS[4]
    acts.append(gs.Activity(gs.date(2026, 10, 28), "Mạng xã hội", FORMULA_TEXTS[3],
                            "Fanpage Huyện ủy Lâm Hà", 540))
    spec.activities = acts
    spec.narrative = dict(spec.narrative)
    spec.narrative["Đề xuất, kiến nghị"] = "=1+1"
    return spec


# (code, column 0=ky_nay 1=luy_ke) -> (formula, cached value or None)
REAL_FORMULAS = {
    ("HN", 0): ("1+1", 2),
    ("NG", 0): ("100+50", 150),
    ("TB", 0): ("2+3", 5),
    ("TB", 1): ("E14+35", 40),
    ("MXH", 1): ("SUM(70,10)", 80),
    ("KT", 0): ("0+1", None),
}


def make_real_formulas() -> bytes:
    rows = anchors()["indicator_rows"]

    def fn(parts):
        def sheet(x):
            for (code, col), (f, v) in REAL_FORMULAS.items():
                ref = ("E" if col == 0 else "F") + str(rows[code])
                cached = "" if v is None else f"<v>{v}</v>"
                x = sub_once(rf'<c r="{ref}" s="(\d+)" t="n"><v>[^<]*</v></c>',
                             lambda m: f'<c r="{ref}" s="{m.group(1)}"><f>{xml_text(f)}</f>'
                                       f'{cached}</c>', x)
            return x
        patch_sheet(parts, P_IND, sheet)
    return variant(fn)


def make_macro() -> bytes:
    def fn(parts):
        ct = part(parts, P_CT).decode()
        ct = sub_once(r'application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml',
                      "application/vnd.ms-excel.sheet.macroEnabled.main+xml", ct)
        ct = ct.replace('<Default Extension="xml"', '<Default Extension="bin" ContentType='
                        '"application/vnd.ms-office.vbaProject" /><Default Extension="xml"')
        set_part(parts, P_CT, ct.encode())
        rels = part(parts, P_WB_RELS).decode().replace(
            "</Relationships>", '<Relationship Type="http://schemas.microsoft.com/office/2006/'
            'relationships/vbaProject" Target="vbaProject.bin" Id="rId101" /></Relationships>')
        set_part(parts, P_WB_RELS, rels.encode())
        # Not a working VBA project: an OLE signature and inert text. Nothing may ever run it.
        vba = (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 24 +
               b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\n  MsgBox "tonghop test"\r\n'
               b"End Sub\r\n").ljust(1536, b"\x00")
        set_part(parts, "xl/vbaProject.bin", vba)
    return variant(fn)


EXT_LINK_TARGET = "other.xlsx"


def make_external_link() -> bytes:
    ref = "E" + str(anchors()["indicator_rows"]["TTDT"])
    value = gs.FIX_VALUES["TTDT"][0]

    def fn(parts):
        patch_sheet(parts, P_IND, lambda x: sub_once(
            rf'<c r="{ref}" s="(\d+)" t="n"><v>[^<]*</v></c>',
            lambda m: f'<c r="{ref}" s="{m.group(1)}"><f>[1]Sheet1!$A$1</f><v>{value}</v></c>', x))
        ns = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://'
              'schemas.openxmlformats.org/officeDocument/2006/relationships"')
        set_part(parts, "xl/externalLinks/externalLink1.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink {ns}>'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1" /></sheetNames>'
            f'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>{value}</v></cell>'
            "</row></sheetData></sheetDataSet></externalBook></externalLink>").encode())
        set_part(parts, "xl/externalLinks/_rels/externalLink1.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
            'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
            '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
            f'Target="{EXT_LINK_TARGET}" TargetMode="External" /></Relationships>').encode())
        ct = part(parts, P_CT).decode().replace(
            "</Types>", '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml" />'
            "</Types>")
        set_part(parts, P_CT, ct.encode())
        rels = part(parts, P_WB_RELS).decode().replace(
            "</Relationships>", '<Relationship Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"'
            ' Id="rId102" /></Relationships>')
        set_part(parts, P_WB_RELS, rels.encode())
        wb = part(parts, P_WB).decode()
        wb = sub_once(r"</sheets>", '</sheets><externalReferences><externalReference r:id="rId102" />'
                      "</externalReferences>", wb)
        set_part(parts, P_WB, wb.encode())
    return variant(fn)


# ---------------------------------------------------------------- legacy encodings

LEGACY_FONTS = {"tcvn3": ".VnTime", "vni": "VNI-Times"}


def legacy_spec(enc: Callable[[str], str]) -> gs.FormSpec:
    spec = base_spec(unit_text=enc(UNIT_TEXT), preparer=enc("Nguyễn Thị Hồng Nhung"))
    acts = [gs.Activity(**vars(a)) for a in gs.FIX_ACTS]
    for a in acts:
        a.content = enc(a.content)
        a.place = enc(a.place)
        if a.note:
            a.note = enc(a.note)
    spec.activities = acts
    spec.narrative = {k: enc(v) for k, v in gs.FIX_NARR.items()}
    return spec


def make_legacy(which: str) -> Callable[[], bytes]:
    enc = to_tcvn3 if which == "tcvn3" else to_vni

    def data() -> bytes:
        spec = legacy_spec(enc)
        with tempfile.TemporaryDirectory() as td:
            p = Path(td) / "l.xlsx"
            where = gs.write_form(spec, p)
            # The legacy text is shown with its legacy font, as on the unit's computer.
            wb = load_workbook(p)
            font = LEGACY_FONTS[which]
            ws = wb[spec.sheet_names[0]]
            for key in ("unit_value", "preparer_value"):
                ws[where[key]].font = Font(name=font)
            ws = wb[spec.sheet_names[1]]
            for row in ws.iter_rows(min_row=2, min_col=4, max_col=7):
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.font = Font(name=font)
            ws = wb[spec.sheet_names[2]]
            for label in gs.NARR_LABELS:
                ws[where["narrative"][label]["text"]].font = Font(name=font)
            wb.save(p)
            gs.normalize_zip(p)
            return p.read_bytes()
    return data


# ---------------------------------------------------------------- hostile names

def long_name() -> str:
    stem = "BC " + "Huyện ủy Lâm Hà " * 20
    limit = 250 - len(".xlsx")
    while len(stem.encode()) > limit:
        stem = stem[:-1]
    stem = stem.rstrip()
    stem += "_" * (limit - len(stem.encode()))
    name = stem + ".xlsx"
    assert len(name.encode()) == 250
    return name


NAME_LONG = long_name()
NAME_DOTS_LEADING = "..BC..Lâm Hà..xlsx"
NAME_DOTS_INSIDE = "BC..Lâm Hà..T10.xlsx"
NAME_BEL = "HU Lâm Hà\x07 BC T10.xlsx"
NAME_NEWLINE = "HU Lâm Hà\nBC T10.xlsx"
NAME_NFD = unicodedata.normalize("NFD", "HU Lâm Hà - BC tháng 10 (NFD).xlsx")
NAME_APPLEDOUBLE = "._HU Lâm Hà - BC T10.xlsx"


def make_appledouble() -> bytes:
    # AppleDouble header (magic 0x00051607, version 2), as macOS writes beside a file on SMB.
    head = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", 1)
    entry = struct.pack(">III", 9, 50, 32)   # Finder info
    return (head + entry).ljust(4096, b"\x00")


# ============================================================================================
# The cases
# ============================================================================================

def cases() -> list[Case]:
    F = IN_UNIT_FOLDER
    c: list[Case] = []
    add = c.append

    # -------- 1..7 unreadable, disguised, protected
    add(Case("zero.xlsx", "small", "0 bytes.", "rejected", "unreadable", "Tệp rỗng",
             inbox_path=F + "zero.xlsx", make=writer(lambda: b"")))
    add(Case("truncated.xlsx", "small", "The valid report cut to its first half (no central "
             "directory).", "rejected", "unreadable", "bị hỏng", inbox_path=F + "truncated.xlsx",
             make=writer(make_truncated)))
    add(Case("text_renamed.xlsx", "small", "A UTF-8 text file (the report typed as ';'-separated "
             "lines, 1 KB, a character across byte 512) renamed .xlsx.", "rejected", "unreadable", "tệp văn bản",
             inbox_path=F + "text_renamed.xlsx",
             make=writer(make_text_renamed)))
    add(Case("xls_as_xlsx.xlsx", "small", "A real Excel 97-2003 file (BIFF8, made by LibreOffice "
             "from the report) under an .xlsx name.", "accepted", "extension_mismatch", "đuôi .xlsx",
             make=make_lo("xls", base_bytes)))
    add(Case("xlsx_as_xls.xls", "small", "The .xlsx report under an .xls name.", "accepted",
             "extension_mismatch", "đuôi .xls", make=writer(base_bytes)))
    add(Case("html_as_xls.xls", "small", "An HTML table with the report's figures saved as .xls, "
             "as some software 'exports to Excel' (UTF-8, Office HTML namespaces).", "rejected",
             "unreadable", "HTML", inbox_path=F + "html_as_xls.xls", make=writer(make_html)))
    add(Case("xml2003_as_xls.xls", "small", "An 'XML Spreadsheet 2003' file (SpreadsheetML, "
             "another common 'export to Excel') saved as .xls.", "rejected", "unreadable", "XML",
             inbox_path=F + "xml2003_as_xls.xls", make=writer(make_xml2003), extra=True,
             note="A clerk is helped by naming the format: 'bảng tính XML 2003' and how to "
                  "re-save as .xlsx."))
    add(Case("encrypted.xlsx", "small", "The report encrypted with the password '123' (Excel "
             "'Encrypt with Password': an OLE container with EncryptionInfo and EncryptedPackage "
             "streams; agile encryption by msoffcrypto-tool).", "rejected", "password", "mật khẩu",
             inbox_path=F + "encrypted.xlsx", make=writer(make_encrypted)))

    # -------- 8, 9 zip bombs
    add(Case("zipbomb_honest.xlsx", "large", "The report whose Hoạt động sheet part holds a 1 GiB "
             f"string in D2 (sheet XML of {bomb_xml_size():,} bytes), deflated to about 1 MB; honest "
             "sizes in the local and central headers.", "rejected", "zip_bomb", "nén",
             inbox_path=F + "zipbomb_honest.xlsx", make=make_bomb(False),
             note="Must be refused by counting while decompressing, before any reader sees it; "
                  "peak memory and time should stay small (no 1 GiB buffer)."))
    add(Case("zipbomb_lying.xlsx", "large", "Same as zipbomb_honest.xlsx, but the local and central"
             " headers of the sheet part declare 2,646 uncompressed bytes (the CRC is the true one)."
             , "rejected", "zip_bomb", "nén", inbox_path=F + "zipbomb_lying.xlsx",
             make=make_bomb(True),
             note="The declared sizes must not be trusted. Python's zipfile reads only the declared"
                  " 2,646 bytes and then fails with 'Bad CRC-32'."))
    add(Case("zipbomb_overlap.xlsx", "small", f"The report plus {OVERLAP_COPIES} central-directory "
             f"entries (xl/printerSettings/printerSettingsN.bin) that all point at ONE local header "
             f"whose data inflates to {OVERLAP_KERNEL_MIB} MiB: {OVERLAP_COPIES * OVERLAP_KERNEL_MIB}"
             " MiB in total from a 60 KB file (overlapping entries, honest sizes).", "rejected",
             "zip_bomb", "nén", inbox_path=F + "zipbomb_overlap.xlsx", make=make_overlap_bomb,
             extra=True,
             note="Refused by the decompressed-bytes count (over 512 MiB), or earlier by "
                  "zip::ZipArchive::has_overlapping_files. Python's zipfile refuses it ('Overlapped "
                  "entries' / file name mismatch)."))

    # -------- 10..13 size limits
    add(Case("cell_at_xfd1048576.xlsx", "small", "The report plus one text cell 'x' at XFD1048576 "
             "on Hoạt động (dimension A1:XFD1048576); an 8 KB file whose rectangle is 17 billion "
             "cells.", "accepted", "cells_outside_form", "ngoài vùng",
             make=writer(make_cell_far),
             note="The reader must not materialise the rectangle (calamine's worksheet_range would "
                  "abort the process). One far cell is not 'too many rows': warn and ignore it. "
                  "Rejecting with a clear message would also be acceptable."))
    add(Case("rows_1m.xlsx", "large", "Hoạt động with a header row and 1,048,575 activity rows (the "
             "3 reference activities repeated; shared strings), Excel's maximum; about 210 MB of "
             "sheet XML.", "rejected", "too_many_rows", "vượt quá", inbox_path=F + "rows_1m.xlsx",
             make=make_rows,
             note="Expected message (at sheet Hoạt động): 'có dữ liệu vượt quá 100.000 dòng, nhiều "
                  "hơn mức một báo cáo cần; tệp không được tổng hợp. Đề nghị đơn vị xóa các dòng "
                  "thừa (hoặc chia báo cáo) rồi gửi lại.' Reading must stop at the limit, in bounded"
                  " memory. Cost: the pre-read zip check inflates all 229 MB, then 100,000 rows are "
                  "parsed and validated: a debug build took 62 s (150 MB) on a busy 2-core machine, "
                  "which may approach the 60 s read timeout; run it with dependencies "
                  "optimised in dev builds or in release."))
    add(Case("cols_16384.xlsx", "large", "Activity row 2 of Hoạt động continues with numbers in "
             "H2:XFD2 (16,384 filled columns in that row).", "accepted", "cells_outside_form",
             "ngoài vùng", make=make_cols,
             note="Columns past max_columns (64) are ignored with the warning; the 3 activities are "
                  "read as usual. Small enough to commit, but kept with the large cases as the "
                  "issue asks."))
    add(Case("string_1mb.xlsx", "small", "The narrative 'Kết quả nổi bật' (Thuyết minh!B3) holds a "
             "1,048,576-character string (a Vietnamese sentence repeated; 1.4 MB of UTF-8). Excel "
             "itself stops at 32,767 characters per cell.", "accepted", "text_too_long", "dài quá",
             make=writer(make_string_1mb),
             details={"sheet": "Thuyết minh", "cell": "B3", "chars": MiB, "kept_chars": 32767}))

    # -------- 14..16 crafted XML
    add(Case("sst_out_of_range.xlsx", "small", "Hoạt động!D2 is a shared-string cell (t=\"s\") with "
             "index 99999; the shared strings table has 2 entries (C2 and E2 use them).", "rejected",
             "sheet_unreadable", "bị hỏng", inbox_path=F + "sst_out_of_range.xlsx",
             make=writer(make_sst_out_of_range),
             note="calamine returns 'Cell string index not found in shared strings table'; the "
                  "clerk reads: 'Trang \"Hoạt động\": bị hỏng, không đọc được hết nội dung. Đề nghị "
                  "đơn vị mở bằng Excel, lưu lại rồi gửi lại.'"))
    add(Case("billion_laughs.xlsx", "small", "xl/sharedStrings.xml declares a DOCTYPE with the "
             "'billion laughs' entities (lol0..lol9, 10^9 expansions) and its one string is "
             "&lol9;; Hoạt động!G2 refers to it.", "rejected", "xml_entities", "XML bất thường",
             inbox_path=F + "billion_laughs.xlsx", make=writer(make_billion_laughs(False)),
             note="Must be refused quickly with no memory growth (entities never expanded)."))
    add(Case("billion_laughs_late.xlsx", "small", "Same as billion_laughs.xlsx, but an XML comment "
             "of about 10 KB before the DOCTYPE pushes it past the first 4 KB of the part.",
             "rejected", "xml_entities", "XML bất thường",
             inbox_path=F + "billion_laughs_late.xlsx", make=writer(make_billion_laughs(True)),
             extra=True,
             note="The prolog (everything before the root element) can be any length: scan up to "
                  "the root element, not a fixed number of bytes."))
    add(Case("deep_nesting.xlsx", "small", f"Hoạt động's sheetData holds {NEST_DEPTH:,} nested "
             "unknown elements <x><x>... between rows 2 and 3 (well-formed, 700 KB of XML).",
             "accepted", None, None, inbox_path=F + "deep_nesting.xlsx",
             make=writer(make_deep_nesting),
             note="Must never overflow a stack (no recursive parser). Rejecting needs a nesting-"
                  "depth limit in the pre-read XML check (Excel writes depth < 10); the kind is not"
                  " pinned (e.g. reuse 'xml_entities' or add 'xml_too_deep'); the message should "
                  "say the file has an abnormal structure ('cấu trúc bất thường')."))

    # -------- 17..20 content that looks active
    add(Case("formula_text.xlsx", "small", "A valid report whose activity texts are STRINGS that "
             "look like formulas: D2 " + json.dumps(FORMULA_TEXTS[0], ensure_ascii=False) +
             ", D3 '=1+1', D4 '@SUM(A1)', G4 '-2+3', D5 \"+cmd|' /C calc'!A0\" (CSV injection); "
             "Thuyết minh!B7 '=1+1'.", "accepted", None, None,
             make=writer(lambda: form_bytes(formula_text_spec())),
             note="Every consolidated output (workbook, mail, summary.json, any CSV) must keep them"
                  " as text: in the xlsx as string cells, never formulas; a CSV export would need a"
                  " leading apostrophe or similar.",
             details={"sheet": "Hoạt động", "activity_rows": 4,
                      "texts": {"D2": FORMULA_TEXTS[0], "D3": FORMULA_TEXTS[1],
                                "D4": FORMULA_TEXTS[2], "G4": FORMULA_TEXTS[4],
                                "D5": FORMULA_TEXTS[3], "Thuyết minh!B7": "=1+1"}}))
    rows = anchors()["indicator_rows"]
    add(Case("real_formulas.xlsx", "small", "Indicator values written as real formulas with cached "
             "values: " + ", ".join(f"{'E' if col == 0 else 'F'}{rows[code]} ={f} -> "
                                    + ("(no cached value)" if v is None else str(v))
                                    for (code, col), (f, v) in REAL_FORMULAS.items())
             + " (KT Kỳ này has NO cached value, as some generators write).", "accepted",
             "formula_computed", "đã tự tính được 1", severity="warning",
             make=writer(make_real_formulas),
             note="Cached values are used, nothing is recalculated. The formula without a cached "
                  "value is computed exactly (=0+1, so KT Kỳ này = 1) with a warning naming "
                  "Chỉ tiêu!E21; it never reads as 0.",
             details={"indicators": {c: {"ky_nay": k, "luy_ke": l}
                                     for c, (k, l) in gs.FIX_VALUES.items()}}))
    add(Case("macro.xlsm", "small", "The report as a macro-enabled workbook: xl/vbaProject.bin "
             "(inert bytes: an OLE signature and the text of an Auto_Open macro), its relationship "
             "and the macroEnabled content type.", "accepted", None, None, make=writer(make_macro),
             note="Macros are never run; .xlsm is a workbook extension, so no extension warning."))
    add(Case("external_link.xlsx", "small", f"Chỉ tiêu!E{rows['TTDT']} (TTDT Kỳ này) is the formula"
             " ='[other.xlsx]Sheet1'!$A$1 (stored as [1]Sheet1!$A$1 with xl/externalLinks/"
             f"externalLink1.xml -> '{EXT_LINK_TARGET}', TargetMode External) with the cached value "
             f"{gs.FIX_VALUES['TTDT'][0]}.", "accepted", None, None, make=writer(make_external_link),
             note="The cached value is used; nothing is fetched or opened.",
             details={"indicators": {"TTDT": {"ky_nay": gs.FIX_VALUES["TTDT"][0],
                                              "luy_ke": gs.FIX_VALUES["TTDT"][1]}}}))

    # -------- 21 names (content: the valid report)
    add(Case(NAME_LONG, "small", "A 250-BYTE file name (UTF-8, NFC; "
             f"{len(NAME_LONG)} characters): 'BC ' + 'Huyện ủy Lâm Hà ' repeated, padded with '_'. "
             "250 characters of Vietnamese would be over ext4's 255-byte limit (Windows and SMB "
             "allow 255 UTF-16 units, so such names exist on a Windows share but cannot be created "
             "here).", "accepted", None, None, make=writer(base_bytes),
             note="The archive copy and any name derived from it must stay within 255 bytes."))
    add(Case(NAME_DOTS_INSIDE, "small", "A name with '..' inside it.", "accepted", None, None,
             make=writer(base_bytes),
             note="'..' in a name is not a path: the archive copy must stay in its folder."))
    add(Case(NAME_DOTS_LEADING, "small", "A name starting with '..'.", "ignored", None, "tệp ẩn",
             make=writer(base_bytes), unit=None,
             note="A leading dot makes it a hidden file (the rule that also skips macOS '._' "
                  "files): ignored, listed with the reason. Differs from the issue's 'accepted'; "
                  "if the rule changes, expect accepted."))
    add(Case(NAME_BEL, "small", "A name with a BEL control character (U+0007).", "accepted", None,
             None, make=writer(base_bytes),
             note="Control characters must not reach logs, mail headers or the workbook raw "
                  "(escape or replace them in what is shown)."))
    add(Case(NAME_NEWLINE, "small", "A name with a newline (U+000A).", "accepted", None, None,
             make=writer(base_bytes),
             note="A newline must not split a log line, a mail header or a TSV/CSV row."))
    add(Case(NAME_NFD, "small", "A name stored in NFD (decomposed, as macOS writes): "
             f"{len(NAME_NFD)} code points for {len(unicodedata.normalize('NFC', NAME_NFD))} in NFC.",
             "accepted", None, None, make=writer(base_bytes),
             note="Compared and shown in NFC; the file is still opened by its on-disk (NFD) name."))
    add(Case(NAME_APPLEDOUBLE, "small", "A macOS AppleDouble companion file ('._' + name, 4 KB, "
             "magic 00 05 16 07) with an .xlsx name, as a Mac leaves on an SMB share.", "ignored",
             None, "tệp ẩn", unit=None, make=writer(make_appledouble), extra=True,
             note="Ignored by its name (leading dot). Given to `tonghop check` directly, it is "
                  "called a text file: its bytes are all below 0x80 (NULs), which the sniffer "
                  "takes for ASCII text."))

    # -------- 22 legacy encodings
    add(Case("legacy_tcvn3.xlsx", "small", "The report with the unit name, preparer, activity "
             "contents and places and the narratives typed in TCVN3 (ABC, font .VnTime): the "
             f"unit cell reads {json.dumps(to_tcvn3(UNIT_TEXT), ensure_ascii=False)}. Titles, labels"
             " and the period stay Unicode (they come from the province's template).", "accepted",
             "legacy_encoding", "phông chữ cũ TCVN3", inbox_path="legacy_tcvn3.xlsx",
             make=writer(make_legacy("tcvn3")),
             note="The file name names no unit: the unit must come from the converted cell. "
                  "Detection: words mixing ASCII letters with the TCVN3 characters of "
                  "legacy_encodings.json. Accepted with the warning if the converted unit "
                  "matches; the converted text should be what is consolidated.",
             details={"unit_cell_raw": to_tcvn3(UNIT_TEXT), "unit_cell_converted": UNIT_TEXT}))
    add(Case("legacy_tcvn3.xls", "small", "legacy_tcvn3.xlsx converted to .xls by LibreOffice "
             "(TCVN3 users are mostly on old Excel).", "accepted", "legacy_encoding",
             "phông chữ cũ TCVN3", make=make_lo("xls", make_legacy("tcvn3")), extra=True,
             details={"unit_cell_raw": to_tcvn3(UNIT_TEXT), "unit_cell_converted": UNIT_TEXT}))
    add(Case("legacy_vni.xlsx", "small", "Same as legacy_tcvn3.xlsx in VNI-Windows (font "
             f"VNI-Times): the unit cell reads {json.dumps(to_vni(UNIT_TEXT), ensure_ascii=False)}.",
             "accepted", "legacy_encoding", "phông chữ cũ VNI", make=writer(make_legacy("vni")),
             details={"unit_cell_raw": to_vni(UNIT_TEXT), "unit_cell_converted": UNIT_TEXT}))

    # -------- 23 made by the test at run time
    add(Case("changes_while_read.xlsx", "runtime", "A valid report that the test rewrites (other "
             "content, new size and mtime) after the scan and before or while it is read.",
             "rejected", "file_changing", "đang thay đổi", severity="error", inbox_path="HU Lâm Hà - BC T10.xlsx",
             note="Proposed: compare size and mtime after reading with the scan's; if they differ, "
                  "skip the file this run like a file still being copied ('tệp vừa thay đổi (có thể"
                  " đang được chép vào); sẽ xét ở lần chạy sau'). Never consolidate a torn read; "
                  "the SHA-256 and archive copy must be of the bytes that were validated."))
    add(Case("deleted_before_read.xlsx", "runtime", "A valid report the test deletes between the "
             "scan and the read.", "rejected", "io", "đã bị xóa",
             inbox_path=F + "deleted_before_read.xlsx",
             note="Today's message: 'Không đọc được tệp: tệp đã bị xóa hoặc di chuyển trong lúc "
                  "đọc.' The run goes on; the file is not archived."))
    add(Case("no_permission.xlsx", "runtime", "A valid report with mode 000 (chmod 000).",
             "rejected", "io", "không có quyền", inbox_path=F + "no_permission.xlsx",
             note="Root ignores file modes (CI and the dev machines run as root): skip the test "
                  "when geteuid()==0, or drop privileges / use a read-denying mechanism other than "
                  "the mode bits."))
    return c


# ============================================================================================
# Main
# ============================================================================================

def write_cases_json(dest: Path, entries: list[dict], scope: str) -> None:
    doc = {
        "about": ("Hostile files and what must become of each. Generated by scripts/gen_hostile.py "
                  f"({scope}). Run each case alone in a fresh inbox at the path 'inbox_path', for "
                  "the period 2026-10 with the default config; 'small' files are in "
                  "tests/fixtures/hostile/, 'large' ones are written at test time by "
                  "`python3 scripts/gen_hostile.py large DIR`, 'runtime' ones are made by the test "
                  "itself from a valid report. Unless a case says otherwise the content is the "
                  "Huyện ủy Lâm Hà report of tests/fixtures/layouts/standard.xlsx (its values are "
                  "in tests/fixtures/layouts/layouts.json)."),
        "period": "2026-10",
        "cases": entries,
    }
    (dest / "cases.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")


def cmd_small() -> None:
    if HOSTILE.exists():
        shutil.rmtree(HOSTILE)
    HOSTILE.mkdir(parents=True)
    all_cases = cases()
    for case in all_cases:
        if case.size != "small":
            continue
        dest = HOSTILE / case.file
        case.make(dest)
        os.utime(dest, (MTIME, MTIME))
        size = dest.stat().st_size
        assert size < 100_000, (case.file, size)
    (HOSTILE / "legacy_encodings.json").write_text(
        json.dumps(legacy_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_cases_json(HOSTILE, [c.entry() for c in all_cases], "all cases")
    total = sum(p.stat().st_size for p in HOSTILE.iterdir())
    print(f"wrote {sum(c.size == 'small' for c in all_cases)} small cases to {HOSTILE} "
          f"({total:,} bytes in all)")


def cmd_large(dest: Path, names: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    chosen = [c for c in cases() if c.size == "large" and (not names or c.file in names)]
    missing = set(names) - {c.file for c in chosen}
    if missing:
        sys.exit(f"no such large case: {sorted(missing)}")
    for case in chosen:
        case.make(dest / case.file)
    write_cases_json(dest, [c.entry() for c in chosen], "large cases")
    print(f"wrote {len(chosen)} large cases to {dest}")


# ---------------------------------------------------------------- verify

def _stream_len(z: zipfile.ZipFile, name: str) -> tuple[int, int]:
    n, crc = 0, 0
    with z.open(name) as f:
        while chunk := f.read(8 * MiB):
            n += len(chunk)
            crc = zlib.crc32(chunk, crc)
    return n, crc


def _raw_inflate(data: bytes, offset: int) -> int:
    """Decompressed length of the raw deflate stream of the local entry at offset (streaming)."""
    sig, _, _, method, _, _, _, csize, _, nlen, xlen = struct.unpack_from("<IHHHHHIIIHH", data, offset)
    assert sig == 0x04034B50 and method == 8
    start = offset + 30 + nlen + xlen
    d = zlib.decompressobj(-15)
    total, pos = 0, start
    while pos < start + csize:
        chunk = data[pos:min(pos + 64 * 1024, start + csize)]
        pos += len(chunk)
        while chunk:
            out = d.decompress(chunk, 64 * MiB)
            total += len(out)
            chunk = d.unconsumed_tail
    return total


def verify(dest: Path, lo: bool) -> None:
    doc = json.loads((dest / "cases.json").read_text(encoding="utf-8"))
    present = {c["file"]: c for c in doc["cases"] if (dest / c["file"]).exists()}
    ok = True

    def check(cond, msg):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + msg)
        ok &= bool(cond)

    for name, case in sorted(present.items()):
        p = dest / name
        data = p.read_bytes()
        shown = json.dumps(name, ensure_ascii=False)
        head = data[:8]
        if name == "zero.xlsx":
            check(len(data) == 0, f"{shown}: 0 bytes")
        elif name == "truncated.xlsx":
            check(head.startswith(b"PK") and not zipfile.is_zipfile(p), f"{shown}: zip start, no end")
        elif name == "text_renamed.xlsx":
            check(data.decode("utf-8").startswith("BÁO CÁO"), f"{shown}: UTF-8 text")
        elif name in ("html_as_xls.xls", "xml2003_as_xls.xls"):
            check(data.startswith(b"<html") or data.startswith(b"<?xml"), f"{shown}: markup text")
        elif name.endswith(".xls") and name != "xlsx_as_xls.xls" or name == "xls_as_xlsx.xlsx":
            check(head == bytes.fromhex("d0cf11e0a1b11ae1") and b"W\x00o\x00r\x00k\x00b\x00o\x00o"
                  b"\x00k" in data, f"{shown}: OLE with a Workbook stream (BIFF)")
        elif name == "encrypted.xlsx":
            import olefile
            ole = olefile.OleFileIO(io.BytesIO(data))
            streams = {"/".join(s) for s in ole.listdir()}
            check({"EncryptionInfo", "EncryptedPackage"} <= streams, f"{shown}: OLE {sorted(streams)}")
            try:
                import msoffcrypto
                f = msoffcrypto.OfficeFile(io.BytesIO(data))
                f.load_key(password="123")
                out = io.BytesIO()
                f.decrypt(out)
                check(out.getvalue() == base_bytes(), f"{shown}: decrypts with '123' to the report")
            except ImportError:
                print(f"skip {shown}: msoffcrypto not installed")
        elif name.startswith("zipbomb_"):
            z = zipfile.ZipFile(p)
            if name == "zipbomb_overlap.xlsx":
                infos = [i for i in z.infolist() if "printerSettings" in i.filename]
                offs = {i.header_offset for i in infos}
                declared = sum(i.file_size for i in infos)
                real = _raw_inflate(data, infos[0].header_offset)
                check(len(offs) == 1 and len(infos) == OVERLAP_COPIES and declared > 1 << 30
                      and real == OVERLAP_KERNEL_MIB * MiB + 7,
                      f"{shown}: {len(infos)} entries share 1 local header; {declared:,} bytes "
                      f"declared in all, one copy inflates to {real:,}; file {len(data):,} bytes")
            else:
                info = z.getinfo(P_ACT)
                real = _raw_inflate(data, info.header_offset)
                lying = name == "zipbomb_lying.xlsx"
                check(real > GiB and len(data) < 2 * MiB and (info.file_size < 4096) == lying,
                      f"{shown}: sheet part declares {info.file_size:,}, inflates to {real:,}; "
                      f"file {len(data):,} bytes")
                if not lying:
                    n, crc = _stream_len(z, P_ACT)
                    check(n == real and crc == info.CRC, f"{shown}: zipfile reads {n:,} bytes, CRC ok")
        elif name == "rows_1m.xlsx":
            z = zipfile.ZipFile(p)
            n = 0
            with z.open(P_ACT) as f:
                tail = b""
                while chunk := f.read(8 * MiB):
                    n += (tail[-4:] + chunk).count(b"<row ")   # a match may span two chunks
                    tail = (tail + chunk)[-1000:]
            check(n == ROWS_TOTAL and b'<row r="1048576">' in tail,
                  f"{shown}: {n:,} rows, last r=1048576; file {len(data):,} bytes")
        elif name == "cols_16384.xlsx":
            z = zipfile.ZipFile(p)
            x = z.read(P_ACT).decode()
            row = re.search(r'<row r="2">.*?</row>', x, re.S).group(0)
            check(row.count("<c ") == 16384 and 'r="XFD2"' in row, f"{shown}: row 2 has "
                  f"{row.count('<c ')} cells up to XFD2")
        elif name == NAME_APPLEDOUBLE:
            check(data[:4] == bytes.fromhex("00051607"), f"{shown}: AppleDouble magic")
        else:
            # a zip-based report with one hostile part: check it, then that the rest reads
            z = zipfile.ZipFile(p)
            bad = z.testzip()
            check(bad is None, f"{shown}: zip CRCs ok")
            act = z.read(P_ACT).decode()
            if name == "cell_at_xfd1048576.xlsx":
                check('r="XFD1048576"' in act and len(data) < 10_000,
                      f"{shown}: XFD1048576 present, {len(data):,} bytes")
            elif name == "sst_out_of_range.xlsx":
                check('<c r="D2" s="8" t="s"><v>99999</v>' in act and
                      z.read("xl/sharedStrings.xml").count(b"<si>") == 2, f"{shown}: index 99999 of 2")
            elif name.startswith("billion_laughs"):
                s = z.read("xl/sharedStrings.xml")
                pos = s.find(b"<!DOCTYPE")
                late = name == "billion_laughs_late.xlsx"
                check(pos >= 0 and (pos > 4096) == late and b"&lol9;" in s,
                      f"{shown}: DOCTYPE at byte {pos}")
                try:
                    import xml.etree.ElementTree as ET
                    ET.fromstring(s)
                    check(False, f"{shown}: expat must refuse the entity expansion")
                except Exception as e:  # expat refuses: "limit on input amplification factor"
                    print(f"ok   {shown}: expat refuses it ({type(e).__name__}: {str(e)[:60]})")
            elif name == "deep_nesting.xlsx":
                check(act.count("<x>") == NEST_DEPTH, f"{shown}: {NEST_DEPTH:,} nested elements")
            elif name == "macro.xlsm":
                check("xl/vbaProject.bin" in z.namelist() and b"macroEnabled" in
                      z.read(P_CT), f"{shown}: vbaProject.bin + macroEnabled content type")
            elif name == "external_link.xlsx":
                check("xl/externalLinks/externalLink1.xml" in z.namelist() and
                      "[1]Sheet1!$A$1" in z.read(P_IND).decode(), f"{shown}: external link")
            elif name == "real_formulas.xlsx":
                x = z.read(P_IND).decode()
                check(x.count("<f>") == len(REAL_FORMULAS) and "<f>0+1</f></c>" in x,
                      f"{shown}: {x.count('<f>')} formulas, one without a cached value")
            # openpyxl reads it as the report (values only; formulas as their cached values);
            # where the hostile part would stop openpyxl too, it is first replaced by a benign one
            # (showing that it is the only problem).
            disarm = {
                "billion_laughs.xlsx": ("xl/sharedStrings.xml", lambda b: sst(["lol"])),
                "billion_laughs_late.xlsx": ("xl/sharedStrings.xml", lambda b: sst(["lol"])),
                "sst_out_of_range.xlsx": (P_ACT, lambda b: b.replace(b"<v>99999</v>", b"<v>0</v>")),
                "deep_nesting.xlsx": (P_ACT, lambda b: b.replace(b"<x>" * NEST_DEPTH, b"").replace(
                    b"</x>" * NEST_DEPTH, b"")),
            }
            src = io.BytesIO(data)
            if name in disarm:
                pname, fix = disarm[name]
                parts = read_parts(data)
                set_part(parts, pname, fix(part(parts, pname)))
                src = io.BytesIO(zip_parts(parts))
                print(f"     {shown}: hostile part {pname} replaced by a benign one for openpyxl")
            wb = load_workbook(src, data_only=True)
            ws = wb["Chỉ tiêu"]
            unit = ws["C3"].value
            expected_unit = {"legacy_tcvn3.xlsx": to_tcvn3(UNIT_TEXT),
                             "legacy_vni.xlsx": to_vni(UNIT_TEXT)}.get(name, UNIT_TEXT)
            check(unit == expected_unit and wb.sheetnames == ["Chỉ tiêu", "Hoạt động",
                                                              "Thuyết minh"],
                  f"{shown}: openpyxl reads the report, unit cell {unit!r}")
            if name in ("legacy_tcvn3.xlsx", "legacy_vni.xlsx"):
                conv = from_tcvn3 if "tcvn3" in name else from_vni
                texts = [c.value for r in wb["Thuyết minh"].iter_rows() for c in r
                         if isinstance(c.value, str)]
                check(conv(unit) == UNIT_TEXT and conv(texts[2]) == gs.FIX_NARR["Kết quả nổi bật"],
                      f"{shown}: converts back to Unicode with legacy_encodings.json")
            if name == "string_1mb.xlsx":
                x = z.read(P_NARR).decode()
                m = re.search(r'<c r="B3"[^>]*><is><t xml:space="preserve">([^<]*)</t>', x)
                check(m and len(m.group(1)) == MiB, f"{shown}: B3 holds {len(m.group(1)):,} "
                      "characters in the XML (openpyxl itself cuts at 32,767)")
            if name == "formula_text.xlsx":
                ws2 = wb["Hoạt động"]
                got = {k: ws2[k].value for k in ("D2", "D3", "D4", "G4", "D5")}
                check(got == {k: v for k, v in case["details"]["texts"].items() if "!" not in k}
                      and ws2["D2"].data_type == "s", f"{shown}: formula-like texts are strings")
    if lo:
        ok &= lo_check(dest, present)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    if not ok:
        sys.exit(1)


def lo_check(dest: Path, present: dict) -> bool:
    """Open the valid-looking workbooks with LibreOffice (one headless process for all)."""
    names = [n for n, c in present.items() if c["expect"]["outcome"] == "accepted"
             and n not in ("cols_16384.xlsx",)]
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        src = []
        for i, n in enumerate(sorted(names)):
            q = td / f"c{i:02d}{Path(n).suffix}"
            shutil.copyfile(dest / n, q)
            src.append((n, q))
        out = td / "out"
        out.mkdir()
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        cmd = [soffice, f"-env:UserInstallation={gs._LO_PROFILE.as_uri()}", "--headless",
               "--norestore", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
               str(out)] + [str(q) for _, q in src]
        subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        all_ok = True
        for n, q in src:
            csv = out / (q.stem + ".csv")
            ok = csv.exists() and "Đơn vị báo cáo" in csv.read_text(encoding="utf-8", errors="replace")
            print(("ok   " if ok else "FAIL ") + f"{json.dumps(n, ensure_ascii=False)}: LibreOffice "
                  "opens it (first sheet exported)")
            all_ok &= ok
        return all_ok


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[1] == "small":
        cmd_small()
    elif len(argv) >= 3 and argv[1] == "large":
        cmd_large(Path(argv[2]), argv[3:])
    elif len(argv) >= 2 and argv[1] == "verify":
        rest = [a for a in argv[2:] if a != "--lo"]
        verify(Path(rest[0]) if rest else HOSTILE, "--lo" in argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
