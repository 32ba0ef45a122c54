# Sourced by the scripts that need PostgreSQL 15's server programs and libpq's headers: sets PG_BIN and
# defines ensure_packages, which installs postgresql-15 and libpq-dev with apt-get when missing (as root).

PG_BIN=/usr/lib/postgresql/15/bin

ensure_packages() {
    if [ -x "$PG_BIN/initdb" ] && pkg-config --exists libpq 2>/dev/null; then
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL 15 server or libpq-dev is missing; install postgresql-15 and libpq-dev" >&2
        exit 1
    fi
    echo "installing postgresql-15 and libpq-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql-15 postgresql-client-15 libpq-dev pkg-config >&2
}

