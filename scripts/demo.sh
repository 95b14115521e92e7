#!/usr/bin/env bash
# Run the main job on the shipped samples with the default configuration.
#
# git keeps no modification times, and tonghop takes a file's modification time as the moment
# it was received; so first give each sample file the received time listed in
# samples/received.tsv (one on-time file, one late file, an earlier and a later resubmission),
# then build tonghop (cargo's progress is shown; the first build takes minutes) and run
# `tonghop run` for October 2026. The mail is written to out/outbox as an .eml file.
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS=$'\t' read -r rel when; do
  [ -n "$rel" ] && touch -m -d "$when" "samples/inbox/$rel"
done < samples/received.tsv
# The first time, cargo compiles tonghop and its dependencies: show it rather than sit silent.
bin="${CARGO_TARGET_DIR:-target}/release/tonghop"
if [ ! -x "$bin" ]; then
  echo "Lần chạy đầu: đang biên dịch tonghop (bản release), mất khoảng 5 phút trên máy 2 nhân;" >&2
  echo "các lần sau chạy ngay." >&2
fi
cargo build --release
exec "$bin" run --period 2026-10 "$@"
