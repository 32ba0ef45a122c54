#!/usr/bin/env bash
# The local demo: builds walbridge and runs `walbridge demo`, which starts two throwaway PostgreSQL
# clusters (legacy and new), creates the seed documents' legacy schema with sample rows, runs the bridge
# with examples/walbridge.yml while an application keeps writing, moves reads to the new schema in steps
# comparing each with legacy, pauses and resumes, verifies every row, and removes everything.
# Installs postgresql-15 and libpq-dev with apt-get when missing (as root). Arguments go to
# `walbridge demo` (--keep leaves the clusters running, --users N sets the size).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-packages.sh
ensure_packages
export PATH="$PG_BIN:$PATH"
echo "== building walbridge" >&2
swift build --product walbridge >/dev/null
exec "$(swift build --show-bin-path)/walbridge" demo "$@"
