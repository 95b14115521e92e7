#!/usr/bin/env python3
"""Generate the fixtures for "a finding weighs what its cause weighs" (issue 12, point 5):
activity rows with flaws that must not reject a report, and a report packed the ways units
really send it.

What it makes in tests/fixtures/weight/ (deleted and recreated on each run):

  activity_row_flaws.xlsx   (openpyxl) the valid Lâm Hà October 2026 report of the layout
                            fixtures (same nine indicators, same narratives) whose seven activity
                            rows carry dates as offices type them and three flaws, one per row:
                            a month-first date, an unknown "Hình thức", a reach in words
  activity_row_flaws.ods    the same, converted by LibreOffice
  report_in_zip.zip         (Python zipfile, as Windows' "Send to > Compressed folder" packs it)
                            the standard Lâm Hà report in a folder, beside macOS metadata and an
                            Excel lock file
  scanned_report.pdf        (LibreOffice) the standard report printed to PDF
  weight.json               what each file holds, for the tests

How to run (from the repository root; see scripts/gen_samples.py for openpyxl and LibreOffice):

  python3 scripts/gen_weight.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_samples as gs  # noqa: E402  (the form writer and the reference Lâm Hà report)

OUT = gs.ROOT / "tests" / "fixtures" / "weight"

# (date cell or text, Hình thức, reach): the sheet rows are 2..8 (row 1 is the header).
ROWS = [
    (date(2026, 10, 5), "Hội nghị", 150),                 # a real date cell
    ("ngày 12/10/2026", "Báo in", None),
    ("15-10-2026", "Mạng xã hội", 1200),
    ("20.10.2026", "Sinh hoạt chi bộ", 30),
    ("10/25/2026", "Trang thông tin điện tử", 800),      # month first: not a date, a warning
    ("28/10/2026", "Tọa đàm", 60),                        # not in the list: a warning
    ("ngày 30 tháng 10 năm 2026", "Hội nghị", "khoảng 200"),  # reach in words: a warning
]


def flawed_spec() -> gs.FormSpec:
    acts = [gs.Activity(d, form, f"Hoạt động số {i} tuyên truyền Kết luận 14-KL/TW",
                        "huyện Lâm Hà", reach)
            for i, (d, form, reach) in enumerate(ROWS, start=1)]
    return gs.fix_spec(activities=acts)


def lo_pdf(src: Path, dest: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        sys.exit("LibreOffice not found: apt-get install -y --no-install-recommends libreoffice-calc")
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        cmd = [soffice, f"-env:UserInstallation={gs._LO_PROFILE.as_uri()}", "--headless",
               "--norestore", "--convert-to", "pdf", "--outdir", str(td), str(src)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        out = td / (src.stem + ".pdf")
        if res.returncode != 0 or not out.exists():
            sys.exit(f"LibreOffice conversion failed: {cmd}\n{res.stdout}\n{res.stderr}")
        shutil.copyfile(out, dest)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        gs.write_form(flawed_spec(), OUT / "activity_row_flaws.xlsx")
        gs.lo_convert(OUT / "activity_row_flaws.xlsx", "ods", OUT / "activity_row_flaws.ods")

        std = tmp / "std.xlsx"
        gs.write_form(gs.fix_spec(), std)
        inner = "BC KL14 T10/HU Lâm Hà - BC T10.xlsx"
        with zipfile.ZipFile(OUT / "report_in_zip.zip", "w", zipfile.ZIP_DEFLATED) as z:
            def add(name: str, data: bytes) -> None:
                info = zipfile.ZipInfo(name, date_time=gs.FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
            add("BC KL14 T10/", b"")
            add(inner, std.read_bytes())
            add("BC KL14 T10/~$HU Lâm Hà - BC T10.xlsx", b"\x0bNguyen\x00" * 20)
            add("__MACOSX/BC KL14 T10/._HU Lâm Hà - BC T10.xlsx", b"\x00\x05\x16\x07" * 16)
        lo_pdf(std, OUT / "scanned_report.pdf")

    doc = {
        "about": "Fixtures for issue 12 point 5, made by scripts/gen_weight.py. Every report is "
                 "Huyện ủy Lâm Hà's for Tháng 10/2026 with the indicators below.",
        "indicators": {c: {"ky_nay": k, "luy_ke": l} for c, (k, l) in gs.FIX_VALUES.items()},
        "activity_row_flaws": {
            "rows": [{"row": i + 2,
                      "date": d.isoformat() if isinstance(d, date) else d,
                      "form": form, "reach": reach} for i, (d, form, reach) in enumerate(ROWS)],
            "warnings": {"B6": "activity_bad_date", "C7": "activity_bad_choice",
                         "F8": "activity_bad_count"},
        },
        "report_in_zip": {"inner": inner},
    }
    (OUT / "weight.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT.relative_to(gs.ROOT)}")


if __name__ == "__main__":
    main()
