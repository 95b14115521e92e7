#!/usr/bin/env python3
"""The script people write instead of tonghop: consolidate the unit reports with pandas.

    python bench/pandas_consolidate.py --engine openpyxl|calamine IN_DIR OUT.xlsx

Written the way a competent analyst would, to be compared fairly: read each workbook once
(every sheet), find the indicator table and the activity table by their header labels, sum the
indicators by code, stack the activities with a unit column, and write one workbook with pandas'
to_excel (the openpyxl writer; activities continue on a new sheet past Excel's row limit).
It checks nothing (no period, no number-as-text, no unknown code, no missing unit), formats
nothing and mails nothing: it is the baseline a user compares against, not a replacement.

engine=openpyxl is pandas' default for .xlsx; engine=calamine (python-calamine) is its fastest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

CODES = ["HN", "NG", "TB", "TTDT", "MXH", "SH", "PB", "MH", "KT"]
VALUE_COLUMNS = ["Kỳ này", "Lũy kế từ đầu năm"]
ROWS_PER_SHEET = 1_048_575  # Excel's 1,048,576 rows, less the header row


def header_row(df: pd.DataFrame, label: str) -> int:
    """Position of the first row holding `label` in some cell."""
    hits = (df == label).any(axis=1).to_numpy().nonzero()[0]
    if len(hits) == 0:
        raise ValueError(f"no row with {label!r}")
    return int(hits[0])


def table_below(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """The rows under the header row that holds `label`, with that row's cells as column names."""
    h = header_row(df, label)
    table = df.iloc[h + 1:].copy()
    table.columns = df.iloc[h].tolist()
    return table


def value_right_of(df: pd.DataFrame, label: str):
    """The first non-empty cell right of `label` on its row."""
    row = df.iloc[header_row(df, label)]
    after = row.dropna().tolist()
    return after[after.index(label) + 1]


def read_report(path: Path, engine: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine=engine)
    ind = sheets["Chỉ tiêu"]
    unit = value_right_of(ind, "Đơn vị báo cáo:")

    table = table_below(ind, "Mã chỉ tiêu")
    table = table[table["Mã chỉ tiêu"].isin(CODES)]
    figures = table[["Mã chỉ tiêu"] + VALUE_COLUMNS].copy()
    for c in VALUE_COLUMNS:
        figures[c] = pd.to_numeric(figures[c], errors="coerce").fillna(0).astype("int64")
    figures.insert(0, "Đơn vị", unit)

    acts = table_below(sheets["Hoạt động"], "Nội dung hoạt động").dropna(how="all")
    acts = acts.loc[:, [c for c in acts.columns if isinstance(c, str)]]
    acts.insert(0, "Đơn vị", unit)
    return figures, acts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["openpyxl", "calamine"], required=True)
    ap.add_argument("inbox", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()

    figures, activities = [], []
    for path in sorted(args.inbox.glob("*.xlsx")):
        f, a = read_report(path, args.engine)
        figures.append(f)
        activities.append(a)
    figures = pd.concat(figures, ignore_index=True)
    activities = pd.concat(activities, ignore_index=True)

    by_unit = figures.pivot_table(index="Đơn vị", columns="Mã chỉ tiêu", values=VALUE_COLUMNS,
                                  aggfunc="sum")
    totals = figures.groupby("Mã chỉ tiêu")[VALUE_COLUMNS].sum().reindex(CODES)

    with pd.ExcelWriter(args.out, engine="openpyxl") as xw:
        totals.to_excel(xw, sheet_name="Tổng cộng")
        by_unit.to_excel(xw, sheet_name="Tổng hợp")
        for i, start in enumerate(range(0, max(len(activities), 1), ROWS_PER_SHEET)):
            name = "Hoạt động" if i == 0 else f"Hoạt động ({i + 1})"
            activities.iloc[start:start + ROWS_PER_SHEET].to_excel(xw, sheet_name=name,
                                                                   index=False)
    print(f"{len(figures) // len(CODES)} units, {len(activities)} activity rows; "
          + " ".join(f"{c}={int(totals.loc[c, 'Kỳ này'])}" for c in CODES), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
