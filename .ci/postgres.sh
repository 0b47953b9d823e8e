# shellcheck shell=bash disable=SC2034
# PostgreSQL for the test suite: use a running server, or start a throwaway cluster.
#
# Sourced by .ci/run (bash). Also usable by hand:
#   . .ci/postgres.sh
#   pg_probe 127.0.0.1 5432                # 0 when postgres@host:port answers (trust auth)
#   pg_throwaway_start                     # sets PG_THROWAWAY_URL; caller must call pg_throwaway_stop
#   pg_throwaway_stop
#
# postgres refuses to run as root, so as root the cluster runs as the `postgres` user
# (runuser) in a directory under /tmp that it owns. No systemd: pg_ctl starts and stops it.

PG_THROWAWAY_ROOT=""
PG_THROWAWAY_URL=""

pg_bin_dir() {
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ ! -x "$d/initdb" ]; then
        echo "postgres.sh: no PostgreSQL server binaries under /usr/lib/postgresql" >&2
        return 1
    fi
    printf '%s\n' "$d"
}

_pg_as_owner() { # from / : the postgres user may not enter the caller's directory
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# pg_probe HOST PORT: the server answers, lets user postgres in without a password, and
# that user may create databases (the suite clones one database per test).
pg_probe() {
    local host=$1 port=$2 ok
    command -v pg_isready >/dev/null 2>&1 || return 1
    pg_isready -q -h "$host" -p "$port" -t 5 || return 1
    ok=$(PGCONNECT_TIMEOUT=5 psql -w -X -A -t -q -h "$host" -p "$port" -U postgres -d postgres \
        -c "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user" 2>&1) || {
        echo "postgres.sh: $host:$port answers but refused user postgres: $ok" >&2
        return 1
    }
    [ "$ok" = t ] || { echo "postgres.sh: user postgres on $host:$port may not create databases" >&2; return 1; }
}

_pg_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg_throwaway_start [PORT]: initdb + start on 127.0.0.1 at PORT (default 55432, or the next
# free one up to +9). Sets PG_THROWAWAY_ROOT and PG_THROWAWAY_URL.
pg_throwaway_start() {
    local first=${1:-55432} port="" p pgbin
    pgbin=$(pg_bin_dir) || return 1
    for ((p = first; p < first + 10; p++)); do
        if _pg_port_free "$p"; then port=$p; break; fi
    done
    [ -n "$port" ] || { echo "postgres.sh: ports $first-$((first + 9)) are all taken" >&2; return 1; }

    PG_THROWAWAY_ROOT=$(mktemp -d /tmp/ecrf-pg.XXXXXX)   # short path: socket names are <108 chars
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_THROWAWAY_ROOT"; fi
    _pg_as_owner "$pgbin/initdb" -D "$PG_THROWAWAY_ROOT/data" -A trust -U postgres -E UTF8 \
        --locale=C.UTF-8 >"$PG_THROWAWAY_ROOT/initdb.log" 2>&1 || {
        cat "$PG_THROWAWAY_ROOT/initdb.log" >&2
        return 1
    }
    _pg_as_owner "$pgbin/pg_ctl" -D "$PG_THROWAWAY_ROOT/data" -l "$PG_THROWAWAY_ROOT/log" -w -t 60 \
        -o "-k $PG_THROWAWAY_ROOT -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
        start >/dev/null || {
        cat "$PG_THROWAWAY_ROOT/log" >&2 2>/dev/null
        return 1
    }
    PG_THROWAWAY_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    pg_probe 127.0.0.1 "$port"
}

# pg_throwaway_stop: stop the cluster started above and remove its directory. Safe to call
# more than once, and when nothing was started.
pg_throwaway_stop() {
    local root=$PG_THROWAWAY_ROOT pgbin
    [ -n "$root" ] || return 0
    PG_THROWAWAY_ROOT=""
    PG_THROWAWAY_URL=""
    if [ -f "$root/data/postmaster.pid" ] && pgbin=$(pg_bin_dir 2>/dev/null); then
        _pg_as_owner "$pgbin/pg_ctl" -D "$root/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            _pg_as_owner "$pgbin/pg_ctl" -D "$root/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$root"
}
