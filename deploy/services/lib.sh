# shellcheck shell=bash
# Shared helpers for deploy/services/{start,stop,status}. Sourced, never run.
#
# The scripts run a real Kafka broker, a real Elasticsearch node and a real
# PostgreSQL server on loopback for tests and CI, with nothing but Maven
# Central, a JDK and Debian's packages: no Docker, no other download site.
# Each service lives in its own file (kafka.sh, elasticsearch.sh,
# postgres.sh) and provides the same functions:
#   <svc>_launch   fetch what is missing, write config, start the process
#   <svc>_wait     block until it answers real requests, or fail with its log
#   <svc>_stop     SIGTERM, wait, SIGKILL; quiet when not running
#   <svc>_status   one line; return non-zero when not serving
#   <svc>_url      the address tests connect to
#   <svc>_env_name its variable in services.env (YUQING_KAFKA_URL, ...)
# start launches every requested service before waiting for any, so the
# JVMs boot side by side (PostgreSQL, up in about a second, is launched last).

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Files we create must be readable by the unprivileged service user even
# when the caller's umask is 077.
umask 022

# --- Layout -------------------------------------------------------------------
# Root runs (CI) keep everything under /var/lib, which the service user can
# traverse (/root is mode 700). A developer running as themselves gets a
# directory in their own cache instead.
if [[ $EUID -eq 0 ]]; then
    _default_home=/var/lib/yuqing-services
else
    _default_home="${XDG_CACHE_HOME:-$HOME/.cache}/yuqing-services"
fi
YUQING_SERVICES_HOME="${YUQING_SERVICES_HOME:-$_default_home}"
# Downloads and unpacked distributions, keyed by version: safe to keep forever.
CACHE_DIR="${YUQING_SERVICES_CACHE:-$YUQING_SERVICES_HOME/cache}"
# Data, logs, pid files, generated config: delete it (services stopped) for a clean slate.
STATE_DIR="${YUQING_SERVICES_STATE:-$YUQING_SERVICES_HOME/state}"
ENV_FILE="$STATE_DIR/services.env"

START_TIMEOUT="${YUQING_START_TIMEOUT:-120}"   # seconds per service, download excluded
STOP_TIMEOUT="${YUQING_STOP_TIMEOUT:-30}"      # seconds of SIGTERM grace before SIGKILL
LOOPBACK=127.0.0.1

ALL_SERVICES=(kafka elasticsearch postgres)

# --- Messages -----------------------------------------------------------------
say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Print the last lines of a log to stderr, framed, so a CI transcript shows why
# a service did not come up without anyone having to log in.
show_log_tail() {
    local file=$1 lines=${2:-60}
    if [[ -s $file ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" >&2
        printf -- '----- end of %s -----\n' "$file" >&2
    else
        printf '(log %s is empty or missing)\n' "$file" >&2
    fi
}

usage() {
    local cmd
    cmd=$(basename "$0")
    cat >&2 <<EOF
usage: $cmd [kafka|elasticsearch|es|postgres|pg|all]...   (default: all)
See deploy/README.md for the environment variables.
EOF
    exit 2
}

# Turn the command-line words into the SERVICES array, in a fixed order.
parse_services() {
    local want_kafka=0 want_es=0 want_pg=0 arg
    [[ $# -eq 0 ]] && set -- all
    for arg in "$@"; do
        case $arg in
            all) want_kafka=1 want_es=1 want_pg=1 ;;
            kafka) want_kafka=1 ;;
            elasticsearch | es) want_es=1 ;;
            postgres | postgresql | pg) want_pg=1 ;;
            -h | --help | help) usage ;;
            *)
                printf 'error: unknown service %q\n' "$arg" >&2
                usage
                ;;
        esac
    done
    SERVICES=()
    [[ $want_kafka -eq 1 ]] && SERVICES+=(kafka)
    [[ $want_es -eq 1 ]] && SERVICES+=(elasticsearch)
    [[ $want_pg -eq 1 ]] && SERVICES+=(postgres)
    return 0
}

# --- Tools --------------------------------------------------------------------
# apt-get install, non-interactive, its output kept in a log shown only on
# failure. The package lists are refreshed only when the first try fails: on
# a machine whose lists are current that saves the update, and on a fresh one
# (lists empty) the first try fails at once. Caller checks that we are root.
apt_install() {
    local log="$STATE_DIR/apt-$1.log" install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@")
    mkdir -p "$STATE_DIR"
    if ! "${install[@]}" >"$log" 2>&1; then
        if ! { apt-get update -qq && "${install[@]}"; } >>"$log" 2>&1; then
            show_log_tail "$log" 20
            die "could not install $* with apt-get (log: $log); install it by hand and rerun"
        fi
    fi
}

# Install a missing Debian package when we are root; otherwise say what to do.
ensure_cmd() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing $pkg (needed for $cmd)..."
        apt_install "$pkg"
        command -v "$cmd" >/dev/null 2>&1 || die "$pkg installed but $cmd is still not on PATH"
    else
        die "$cmd is required; install the Debian package $pkg and rerun"
    fi
}

# mvn, batch mode and quiet, with its output kept in a log that is shown only
# when it fails: a failed download must be loud and say what to check.
run_mvn() {
    local what=$1
    shift
    ensure_cmd mvn maven
    local log="$STATE_DIR/mvn.log"
    if ! mvn -B -q "$@" >"$log" 2>&1; then
        show_log_tail "$log" 40
        die "Maven could not fetch $what from Maven Central (mvn $*). Check the network and ~/.m2/settings.xml (proxy, mirror), then rerun."
    fi
}

# Major version of the JDK at $1 (e.g. 17, 25), or nothing if it is not a JDK.
java_major() {
    local home=$1 v=""
    [[ -x $home/bin/java ]] || return 1
    if [[ -r $home/release ]]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    fi
    if [[ -z $v ]]; then
        v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 |
            sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
    fi
    [[ $v =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$v"
}

# Print the home of a JDK with major version >= $1. An explicit override ($2)
# wins and must qualify; then JAVA_HOME, then the java on PATH (the machine's
# default, so the version it was tested with), then the newest JDK under
# /usr/lib/jvm. The caller names the variable to set in its error message.
find_java() {
    local min=$1 override=${2:-} what=${3:-Java} home major best="" best_major=0
    if [[ -n $override ]]; then
        major=$(java_major "$override") || die "$what: $override is not a JDK (no bin/java)"
        ((major >= min)) || die "$what needs Java $min or newer; $override is Java $major"
        printf '%s\n' "$override"
        return 0
    fi
    if [[ -n ${JAVA_HOME:-} ]] && major=$(java_major "$JAVA_HOME") && ((major >= min)); then
        printf '%s\n' "$JAVA_HOME"
        return 0
    fi
    if command -v java >/dev/null 2>&1; then
        home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        if major=$(java_major "$home") && ((major >= min)); then
            printf '%s\n' "$home"
            return 0
        fi
    fi
    for home in /usr/lib/jvm/*/; do
        home=${home%/}
        major=$(java_major "$home") || continue
        if ((major >= min && major > best_major)); then
            best=$home best_major=$major
        fi
    done
    [[ -n $best ]] && {
        printf '%s\n' "$best"
        return 0
    }
    return 1
}

# --- The service user ---------------------------------------------------------
# Elasticsearch and PostgreSQL both refuse to run as root. Under root (CI)
# they run as this unprivileged system user; a developer's own runs use the
# developer's account and never need it.
SERVICE_USER="${YUQING_SERVICE_USER:-${YUQING_ES_USER:-yuqing-svc}}"

ensure_service_user() {
    local who=$1
    [[ $EUID -eq 0 ]] || return 0
    id -u "$SERVICE_USER" >/dev/null 2>&1 && return 0
    say "$who: creating system user $SERVICE_USER (Elasticsearch and PostgreSQL will not run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "yuqing test services" "$SERVICE_USER" ||
        die "$who: useradd $SERVICE_USER failed; create an unprivileged user and set YUQING_SERVICE_USER"
}

# Run a command as the service user when we are root, as ourselves when not.
as_service_user() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$SERVICE_USER" -- "$@"
    else
        "$@"
    fi
}

# --- Processes ----------------------------------------------------------------
# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$LOOPBACK/$1" 2>/dev/null
}

# Print the pid on the first line of $1 if that process is alive and its
# command line contains $2. A stale pid file (machine restarted, process
# killed, pid reused by something else) yields nothing.
live_pid() {
    local pidfile=$1 marker=$2 pid
    [[ -r $pidfile ]] || return 1
    pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
    printf '%s\n' "$pid"
}

# Close every descriptor above 2 in the current (sub)shell. Called just before
# exec'ing a daemon: a pipe inherited from whoever ran us (a CI runner, `start
# | tee`) and held open by the daemon would keep them waiting for EOF for the
# daemon's whole life, and fd 9 would keep our lock taken.
close_inherited_fds() {
    local fd
    for fd in "/proc/$BASHPID/fd/"*; do
        fd=${fd##*/}
        [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)) && eval "exec $fd>&-"
    done
    return 0
}

# SIGTERM, wait up to STOP_TIMEOUT seconds, then SIGKILL. $1 is a name for messages.
stop_pid() {
    local name=$1 pid=$2 waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 5)); then
            warn "$name (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

# Serialise start/stop so two test sessions starting services at once do not
# both format Kafka's storage or launch a second JVM on the same port.
take_lock() {
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/.lock"
    if ! flock -w 300 9; then
        die "another start/stop has held $STATE_DIR/.lock for 5 minutes; is it stuck?"
    fi
}

# Rewrite services.env with the address of every service that is serving now,
# so tests can `source` it (or read it) without knowing the ports.
write_env_file() {
    local svc tmp
    mkdir -p "$STATE_DIR"
    tmp=$(mktemp "$STATE_DIR/.services.env.XXXXXX")
    {
        echo "# Written by deploy/services; addresses of the services now running."
        for svc in "${ALL_SERVICES[@]}"; do
            if "${svc}_status" >/dev/null 2>&1; then
                echo "$("${svc}_env_name")=$("${svc}_url")"
            fi
        done
    } >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

# shellcheck source=kafka.sh
source "$SERVICES_DIR/kafka.sh"
# shellcheck source=elasticsearch.sh
source "$SERVICES_DIR/elasticsearch.sh"
# shellcheck source=postgres.sh
source "$SERVICES_DIR/postgres.sh"
