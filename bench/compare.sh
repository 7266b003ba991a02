#!/usr/bin/env bash
# Puts the last bench/run.sh report of each store and node count side by side:
# bench/out/<store>-<nodes>/summary.json -> bench/out/compare.md (also printed). See bench/README.md.
#
#   bench/run.sh --quick && bench/run.sh --quick --store postgres \
#     && bench/run.sh --quick --store postgres --nodes 3 && bench/compare.sh
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$BENCH/benchlib.py" compare "$BENCH/out"
