#!/usr/bin/env bash
# Run the main job on the shipped samples with the default configuration.
#
# git keeps no modification times, and tonghop takes a file's modification time as the moment
# it was received; so first give each sample file the received time listed in
# samples/received.tsv (one on-time file, one late file, an earlier and a later resubmission),
# then run `tonghop run` for October 2026. The mail is written to out/outbox as an .eml file.
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS=$'\t' read -r rel when; do
  [ -n "$rel" ] && touch -m -d "$when" "samples/inbox/$rel"
done < samples/received.tsv
exec cargo run --release --quiet -- run --period 2026-10 "$@"
