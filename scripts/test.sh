#!/usr/bin/env bash
# The test command: builds walbridge and runs every test (decoder, engine, and integration
# tests against real PostgreSQL 15 clusters that this script creates and removes).
# Installs postgresql-15 and libpq-dev first when they are missing. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-clusters.sh swift test "$@"
