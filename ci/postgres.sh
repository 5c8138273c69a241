#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: `bash ci/postgres.sh CMD…` starts one (installing
# Debian's postgresql first when CI=true or ACCTSEC_PG_INSTALL=1, as root), runs CMD with
# ACCTSEC_TEST_PG=postgresql://… set, stops and removes the server, and exits with CMD's status.
# Without CMD it starts the server and prints `export ACCTSEC_TEST_PG=…` and how to stop it.
# When no server can be had it says so in one line on stderr and runs CMD without it (the
# PostgreSQL tests then skip, or fail when CI=true).
set -uo pipefail

note() { echo "ci/postgres.sh: $*" >&2; }

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return 0
    fi
    return 1
}

install_postgres() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        note "PostgreSQL is not installed and cannot be (needs root and apt-get): PostgreSQL tests will not run"
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
             && apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1; } \
        || { note "apt-get install postgresql failed: PostgreSQL tests will not run"; return 1; }
}

as_owner() {  # initdb and the server refuse to run as root
    local runuser
    if [ "$(id -u)" != 0 ]; then "$@"; return; fi
    runuser=$(PATH="$PATH:/usr/sbin:/sbin" command -v runuser) || runuser=runuser
    "$runuser" -u postgres -- "$@"
}

start() {
    local bindir port
    if ! bindir=$(pg_bindir); then
        if [ "${CI:-}" = true ] || [ "${ACCTSEC_PG_INSTALL:-}" = 1 ]; then
            install_postgres || return 1
            bindir=$(pg_bindir) || { note "no initdb after installing postgresql"; return 1; }
        else
            note "PostgreSQL is not installed (CI=true or ACCTSEC_PG_INSTALL=1 installs it): PostgreSQL tests will skip"
            return 1
        fi
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        note "running as root without a postgres user: PostgreSQL tests will not run"; return 1
    fi
    PG_DIR=$(mktemp -d -t acctsec-pg-XXXXXX) || return 1
    chmod 755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || { note "initdb failed: $(tail -n 1 "$PG_DIR/initdb.log")"; return 1; }
    as_owner "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR -c listen_addresses= -c fsync=off" start >/dev/null 2>&1 \
        || { note "the server did not start: $(tail -n 1 "$PG_DIR/server.log")"; return 1; }
    PG_STOP="$bindir/pg_ctl -D $PG_DIR/data -m immediate stop"
    as_owner "$bindir/createdb" -h "$PG_DIR" -p "$port" -U postgres acctsec \
        || { note "createdb failed"; return 1; }
    ACCTSEC_TEST_PG="postgresql://postgres@/acctsec?host=$PG_DIR&port=$port"
    export ACCTSEC_TEST_PG
}

stop() {
    [ -n "${PG_STOP:-}" ] && as_owner $PG_STOP >/dev/null 2>&1
    [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
}

PG_DIR="" PG_STOP=""
if [ $# -eq 0 ]; then
    start || { stop; exit 1; }
    echo "export ACCTSEC_TEST_PG='$ACCTSEC_TEST_PG'"
    echo "# stop it with: ${PG_STOP/#/$([ "$(id -u)" = 0 ] && echo 'runuser -u postgres -- ')}; rm -rf $PG_DIR"
    exit 0
fi
if [ -n "${ACCTSEC_TEST_PG:-}" ]; then
    exec "$@"  # a server was given: use it
fi
if start; then
    note "PostgreSQL for the tests at $ACCTSEC_TEST_PG"
else
    stop; PG_DIR="" PG_STOP=""
fi
trap stop EXIT
"$@"
