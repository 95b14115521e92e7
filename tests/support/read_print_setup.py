"""Read a workbook with openpyxl (another reader than calamine) and print, as JSON, what a
person checks before printing it: per sheet the paper, orientation, fit, repeated rows and
frozen cell, and the types of the STT column of the activity sheet."""
import json
import sys

import openpyxl

wb = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": []}
for ws in wb.worksheets:
    ps = ws.page_setup
    out["sheets"].append({
        "name": ws.title,
        "paper": ps.paperSize,
        "orientation": ps.orientation,
        "fit_to_page": bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
        "fit_width": ps.fitToWidth,
        "fit_height": ps.fitToHeight,
        "title_rows": ws.print_title_rows,
        "freeze": ws.freeze_panes,
        "top_left": ws.sheet_view.topLeftCell,
    })
acts = wb["Hoạt động"]
header = [c.value for c in acts[1]]
col = header.index("STT") + 1
types = sorted({type(acts.cell(r, col).value).__name__ for r in range(2, acts.max_row + 1)
                if acts.cell(r, col).value is not None})
out["stt_types"] = types
print(json.dumps(out, ensure_ascii=False))
