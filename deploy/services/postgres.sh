# shellcheck shell=bash
# Single PostgreSQL server on loopback, trust auth, with a role and a database
# named yuqing. Sourced by lib.sh; see the function contract there.
#
# Where it comes from: Debian's own PostgreSQL (the package postgresql, which
# is PostgreSQL 15 on Debian 12), installed with apt-get when its server
# binaries are missing and we are root. We do not use Debian's cluster tools
# (pg_createcluster, the main cluster on 5432): our cluster is a plain initdb
# directory in the state dir, run with pg_ctl. PostgreSQL refuses to run as
# root, so under root it runs as the unprivileged SERVICE_USER (lib.sh), like
# Elasticsearch.

PG_VERSION="${YUQING_PG_VERSION:-15}"
PG_PORT="${YUQING_PG_PORT:-55432}"
PG_BIN="${YUQING_PG_BINDIR:-/usr/lib/postgresql/$PG_VERSION/bin}"
PG_USER="$SERVICE_USER"
# The role and database the tests use, and the superuser that creates them.
PG_ROLE=yuqing
PG_DB=yuqing
PG_SUPERUSER=postgres

PG_STATE="$STATE_DIR/postgres"
PG_DATA="$PG_STATE/data"
# Config lives beside the data dir, not in it, like Elasticsearch's: written
# on every start, while the data dir stays PostgreSQL's alone.
PG_CONF="$PG_STATE/postgresql.conf"
PG_HBA="$PG_STATE/pg_hba.conf"
# Unix socket dir: Debian's /var/run/postgresql belongs to the postgres user.
PG_RUN="$PG_STATE/run"
PG_LOG="$PG_STATE/postgres.log"
PG_CTL_LOG="$PG_STATE/pg_ctl.log"

postgres_url() { echo "postgresql+psycopg://$PG_ROLE@$LOOPBACK:$PG_PORT/$PG_DB"; }
postgres_env_name() { echo YUQING_PG_URL; }
# postmaster.pid's first line is the server's pid. The config_file flag on its
# command line is unique to this state dir, so it tells our server apart from
# any other PostgreSQL on the machine (Debian's main cluster, say).
postgres_pid() { live_pid "$PG_DATA/postmaster.pid" "config_file=$PG_CONF "; }

# A clean environment for every PostgreSQL program, so the caller's PGDATA,
# PGPORT, PGOPTIONS or PGPASSWORD do not leak in.
pg_env() { env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }

# psql as $1 on database $2, over TCP to our port, bounded in time.
pg_psql() {
    local user=$1 db=$2 psql=psql
    shift 2
    [[ -x $PG_BIN/psql ]] && psql=$PG_BIN/psql
    timeout 30 env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$psql" -X -q -v ON_ERROR_STOP=1 \
        "host=$LOOPBACK port=$PG_PORT user=$user dbname=$db connect_timeout=5" "$@"
}

# The server binaries, installed when missing: apt-get as root, else a message.
pg_install() {
    local have
    [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres && -x $PG_BIN/psql ]] && return 0
    [[ -n ${YUQING_PG_BINDIR:-} ]] &&
        die "postgres: YUQING_PG_BINDIR=$PG_BIN has no initdb, pg_ctl, postgres and psql"
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        die "postgres: the PostgreSQL $PG_VERSION server is not installed ($PG_BIN/initdb is missing); as root: apt-get install --no-install-recommends postgresql, then rerun"
    fi
    say "postgres: installing Debian's postgresql (no server in $PG_BIN)..."
    apt_install postgresql
    if [[ ! -x $PG_BIN/initdb ]]; then
        have=$(find /usr/lib/postgresql -path '*/bin/initdb' 2>/dev/null | cut -d/ -f5 | paste -sd' ')
        die "postgres: apt-get installed postgresql but $PG_BIN/initdb is still missing; this machine has PostgreSQL ${have:-(none)}; set YUQING_PG_VERSION to that version"
    fi
}

# Major version of the server binaries (15), from postgres --version.
pg_binary_major() {
    "$PG_BIN/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([0-9]*\).*/\1/p'
}

# The state dir, owned by the service user under root, and a cluster in it:
# initdb once into a scratch dir that is renamed when complete, so an
# interrupted initdb is redone rather than started half made.
pg_init() {
    local major made
    mkdir -p "$PG_STATE" "$PG_RUN"
    if [[ $EUID -eq 0 ]]; then
        find "$PG_STATE" -maxdepth 1 ! -user "$PG_USER" -exec chown "$PG_USER:" {} +
        chown "$PG_USER:" "$PG_RUN"
        if ! as_service_user test -x "$PG_BIN/postgres" -a -w "$PG_STATE" -a -w "$PG_RUN"; then
            die "postgres: user $PG_USER cannot write $PG_STATE. Every parent directory must be traversable by others (/root is mode 700): set YUQING_SERVICES_HOME to a directory such as /var/lib/yuqing-services"
        fi
    fi
    major=$(pg_binary_major)
    if [[ -f $PG_DATA/PG_VERSION ]]; then
        made=$(<"$PG_DATA/PG_VERSION")
        [[ $made == "$major" ]] ||
            die "postgres: $PG_DATA was made by PostgreSQL $made but the server in $PG_BIN is $major. Set YUQING_PG_VERSION=$made, or (test data only) rm -rf $PG_DATA for a new cluster"
        return 0
    fi
    say "postgres: creating the cluster in $PG_DATA (first start only)..."
    rm -rf "$PG_STATE/data.init"
    # UTF-8 for Chinese text; C.UTF-8 is in every glibc since 2.35, so no
    # locale package is needed. The bootstrap superuser is postgres whatever
    # the OS user is called.
    if ! as_service_user env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$PG_BIN/initdb" \
        -D "$PG_STATE/data.init" -U "$PG_SUPERUSER" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"$PG_STATE/initdb.log" 2>&1; then
        show_log_tail "$PG_STATE/initdb.log" 40
        die "postgres: initdb failed; see $PG_STATE/initdb.log (above)"
    fi
    mv "$PG_STATE/data.init" "$PG_DATA"
}

# Written on every start (cheap), so a changed port or setting takes effect.
pg_configure() {
    # A unix socket path longer than 107 bytes cannot be bound; say so plainly.
    ((${#PG_RUN} + 16 < 108)) ||
        die "postgres: the socket path $PG_RUN/.s.PGSQL.$PG_PORT is too long for a unix socket; set YUQING_SERVICES_HOME to a shorter directory"
    cat >"$PG_CONF" <<EOF
# Generated by deploy/services/postgres.sh on every start; edits are overwritten.
# The initdb-made postgresql.conf in data/ is not read.
hba_file = '$PG_HBA'
# Loopback only, and a socket in the state dir.
listen_addresses = '$LOOPBACK'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 100
# Small: the server shares 2 cores and the machine with Kafka, Elasticsearch
# and the test suite.
shared_buffers = 64MB
# A crash can lose the last commits but never corrupts the cluster; tests
# commit often and do not need every commit on disk before it returns.
synchronous_commit = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
datestyle = 'iso, ymd'
lc_messages = 'C.UTF-8'
lc_monetary = 'C.UTF-8'
lc_numeric = 'C.UTF-8'
lc_time = 'C.UTF-8'
default_text_search_config = 'pg_catalog.simple'
EOF
    # Trust: anyone who can reach loopback or the socket on this machine may
    # connect as any role, the superuser included. A test node only.
    cat >"$PG_HBA" <<EOF
# Generated by deploy/services/postgres.sh on every start; edits are overwritten.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   $LOOPBACK/32  trust
EOF
    chmod 644 "$PG_CONF" "$PG_HBA"
}

postgres_launch() {
    local pid
    if pid=$(postgres_pid); then
        say "postgres: already running (pid $pid)"
        return 0
    fi
    if port_open "$PG_PORT"; then
        die "postgres: port $PG_PORT on $LOOPBACK is taken by another process (not ours: no live pid in $PG_DATA/postmaster.pid). Find it with: ss -ltnp '( sport = :$PG_PORT )'; or pick another port with YUQING_PG_PORT"
    fi
    pg_install
    ensure_service_user postgres
    pg_init
    pg_configure
    # Lock files left by a killed server (postmaster.pid, and the socket's
    # lock in run/) name a pid that is not our server, as postgres_pid said
    # above: gone, a zombie not yet reaped, or reused by another process after
    # a reboot. PostgreSQL takes the last two for a live postmaster and
    # refuses to start. Its shared-memory check still keeps a second server
    # off a data dir that orphaned backends hold.
    if [[ -f $PG_DATA/postmaster.pid ]]; then
        say "postgres: removing stale lock files (pid $(head -n 1 "$PG_DATA/postmaster.pid") is not our server)"
        rm -f "$PG_DATA/postmaster.pid"
    fi
    find "$PG_RUN" -mindepth 1 -maxdepth 1 -name '.s.PGSQL.*' -delete

    [[ -f $PG_LOG ]] && mv -f "$PG_LOG" "$PG_LOG.prev"
    say "postgres: starting PostgreSQL $(pg_binary_major) on $LOOPBACK:$PG_PORT"
    # pg_ctl -w returns once the server accepts connections, or fails with the
    # reason in postgres.log; it starts in about a second, so there is nothing
    # to gain by not waiting. The server runs on in a session of its own
    # (setsid, and pg_ctl detaches it again) and keeps none of our descriptors.
    # The config_file quotes are for the shell pg_ctl runs the server through.
    local cmd=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
        "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT"
        -o "-c config_file='$PG_CONF'")
    [[ $EUID -eq 0 ]] && cmd=(runuser -u "$PG_USER" -- "${cmd[@]}")
    if ! (cd "$PG_STATE" && close_inherited_fds && exec setsid -w "${cmd[@]}") \
        </dev/null >"$PG_CTL_LOG" 2>&1; then
        show_log_tail "$PG_CTL_LOG" 20
        show_log_tail "$PG_LOG" 40
        pid=$(postgres_pid) && stop_pid postgres "$pid"
        die "postgres: the server did not start; see $PG_LOG (above)"
    fi
}

postgres_wait() {
    local deadline=$((SECONDS + START_TIMEOUT)) pid out
    until pid=$(postgres_pid) && pg_psql "$PG_SUPERUSER" postgres -c 'select 1' >/dev/null 2>&1; do
        if ! pid=$(postgres_pid); then
            show_log_tail "$PG_LOG"
            die "postgres: the server is not running (no live pid in $PG_DATA/postmaster.pid); see $PG_LOG"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$PG_LOG"
            die "postgres: no answer on $LOOPBACK:$PG_PORT after ${START_TIMEOUT}s (YUQING_START_TIMEOUT); see $PG_LOG"
        fi
        sleep 0.5
    done
    # The role and database the tests use: made on the first start, and made
    # again if a test or a person dropped them. \gexec runs the statement only
    # when the query returns it. pg_signal_backend lets the tests' DROP DATABASE
    # ... WITH (FORCE) end an autovacuum worker that happens to be in the
    # database: without it the drop fails now and then ("must be a member of
    # the role whose process is being terminated").
    if ! out=$(pg_psql "$PG_SUPERUSER" postgres 2>&1 <<EOF
SELECT 'CREATE ROLE $PG_ROLE LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') \gexec
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB') \gexec
GRANT pg_signal_backend TO $PG_ROLE;
EOF
    ); then
        printf '%s\n' "$out" >&2
        die "postgres: could not create the role and database $PG_ROLE; see $PG_LOG"
    fi
    # Connect the way the tests do: as yuqing, to yuqing, over TCP.
    if ! out=$(pg_psql "$PG_ROLE" "$PG_DB" -tAc 'select 1' 2>&1) || [[ $out != 1 ]]; then
        printf '%s\n' "$out" >&2
        die "postgres: the server answers but '$PG_ROLE' cannot query database '$PG_DB'; see $PG_LOG"
    fi
    say "postgres: ready (pid $pid) at $(postgres_url)"
}

postgres_stop() {
    local pid
    if ! pid=$(postgres_pid); then
        say "postgres: not running"
        return 0
    fi
    say "postgres: stopping (pid $pid)..."
    # Fast shutdown: roll back open transactions, disconnect clients, write a
    # checkpoint. A plain SIGTERM would be PostgreSQL's "smart" mode, which
    # waits for every client (a test's leaked pool) to leave.
    local cmd=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
        "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT" -s)
    [[ $EUID -eq 0 ]] && cmd=(runuser -u "$PG_USER" -- "${cmd[@]}")
    if ! "${cmd[@]}" </dev/null >"$PG_CTL_LOG" 2>&1; then
        cat "$PG_CTL_LOG" >&2
        warn "postgres (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGQUIT (immediate shutdown), then SIGKILL"
        kill -QUIT "$pid" 2>/dev/null || true
        stop_pid postgres "$pid"
    fi
    say "postgres: stopped"
}

postgres_status() {
    local pid version
    if ! pid=$(postgres_pid); then
        say "postgres: stopped"
        return 1
    fi
    if ! version=$(pg_psql "$PG_ROLE" "$PG_DB" -tAc 'show server_version' 2>/dev/null) || [[ -z $version ]]; then
        say "postgres: starting or unhealthy (pid $pid, $PG_ROLE cannot query $PG_DB on $LOOPBACK:$PG_PORT)"
        return 1
    fi
    say "postgres: running (pid $pid) $(postgres_url) version ${version%% *}"
}
