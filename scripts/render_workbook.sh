#!/usr/bin/env bash
# Render a workbook as it prints: LibreOffice headless turns it into a PDF (every sheet, with
# the workbook's own page setup: A4 landscape, fit to width, repeated header rows), and
# pdftoppm turns each page into a PNG, so anyone can look at the pages before a change lands.
#
#   scripts/render_workbook.sh [WORKBOOK.xlsx] [DPI]
#
# Default workbook: the one scripts/demo.sh writes (out/2026-10/Tổng hợp KL14 2026-10.xlsx).
# Output: target/look/<workbook name>/<workbook name>.pdf and page-01.png, page-02.png, ...
# Needs LibreOffice (soffice) and poppler-utils (pdftoppm).
set -euo pipefail
cd "$(dirname "$0")/.."
book="${1:-out/2026-10/Tổng hợp KL14 2026-10.xlsx}"
dpi="${2:-70}"
if [ ! -f "$book" ]; then
  echo "no workbook at $book (run scripts/demo.sh first, or name one)" >&2
  exit 2
fi
for tool in soffice pdftoppm; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
name="$(basename "${book%.*}")"
out="target/look/$name"
rm -rf "$out"
mkdir -p "$out"
# A profile of its own: a LibreOffice already running (or a second render) does not interfere.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
soffice -env:UserInstallation="file://$profile" --headless --norestore \
  --convert-to pdf --outdir "$out" "$book" >/dev/null
pdf="$out/$name.pdf"
[ -f "$pdf" ] || { echo "LibreOffice wrote no PDF for $book" >&2; exit 1; }
pdftoppm -r "$dpi" -png "$pdf" "$out/page"
pages=$(find "$out" -name 'page-*.png' | wc -l)
echo "$pdf: $pages pages; PNGs in $out/"
