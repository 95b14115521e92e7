#!/usr/bin/env bash
# Fuzz the whole path from a file's bytes to findings and figures (fuzz/fuzz_targets/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 900: two targets, 30 minutes in all)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). It runs on the stable toolchain with
# RUSTC_BOOTSTRAP=1 (libFuzzer needs the sanitizer flags nightly exposes). Seeds come from the
# layout fixtures and the samples. It runs in fork mode: a crash (a panic in our code, which
# cannot unwind out of the target) stops it; an out-of-memory or a timeout inside a third-party
# reader is recorded (fuzz/artifacts/<target>/oom-*, timeout-*) and fuzzing goes on, because in
# production those are contained by the read worker's limits. Every artifact is copied into
# tests/fixtures/fuzz/ with a test in src/pipeline/read.rs that pins its outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-900}"
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/read_any fuzz/corpus/xlsx_sheet_xml
cp -n tests/fixtures/layouts/*.xlsx tests/fixtures/layouts/*.xls tests/fixtures/layouts/*.ods fuzz/corpus/read_any/ 2>/dev/null || true
cp -n tests/fixtures/fuzz/* fuzz/corpus/read_any/ 2>/dev/null || true
python3 - <<'PY'
import glob, os, zipfile
os.makedirs("fuzz/corpus/xlsx_sheet_xml", exist_ok=True)
for i, f in enumerate(sorted(glob.glob("tests/fixtures/layouts/*.xlsx")) + ["samples/inbox/BaoLam_T10.xlsx"]):
    z = zipfile.ZipFile(f)
    names = z.namelist()
    sheet = next(n for n in names if n.startswith("xl/worksheets/sheet"))
    sst = z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
    open(f"fuzz/corpus/xlsx_sheet_xml/seed{i}", "wb").write(sst + b"\xff" + z.read(sheet))
PY
for target in read_any xlsx_sheet_xml; do
  echo "== $target for ${secs}s"
  cargo fuzz run -O "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 -max_len=262144 \
    -fork=1 -ignore_ooms=1 -ignore_timeouts=1 -ignore_crashes=0 -print_final_stats=1
done
