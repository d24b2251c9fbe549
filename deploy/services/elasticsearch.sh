# shellcheck shell=bash
# Single-node Elasticsearch on loopback, plain HTTP, no auth. Sourced by
# lib.sh; see the function contract there.
#
# Where it comes from: Elastic publishes one Elasticsearch 9 distribution on
# Maven Central, the "integ-test-zip" (elasticsearch/pom.xml). It is the real
# server, but it has no bundled JDK and only four modules. test-plugin/ (our
# own small plugin, compiled here against the same jars) adds what our code
# needs from the missing ones: the cjk analyzer, the cjk_width and cjk_bigram
# filters and the whitespace tokenizer (analysis-common), and GET / and
# HEAD / (rest-root). Elasticsearch refuses to run as root, so under root it
# runs as the unprivileged SERVICE_USER (lib.sh).

ES_VERSION="${YUQING_ES_VERSION:-9.5.3}"
ES_PORT="${YUQING_ES_PORT:-9200}"
ES_TRANSPORT_PORT="${YUQING_ES_TRANSPORT_PORT:-9300}"
ES_HEAP="${YUQING_ES_HEAP:-512m}"
ES_USER="$SERVICE_USER"
ES_CLUSTER_NAME=yuqing-test
ES_MIN_JAVA=21

ES_HOME="$CACHE_DIR/elasticsearch-$ES_VERSION"
# Where a node keeps its config, data, logs and pid: the single node's folder here, one per
# node in the cluster script (deploy/services/cluster), after it sets ES_CLUSTER_NAME.
es_use_state() {
    ES_STATE=$1
    ES_CONF="$ES_STATE/config"
    ES_LOGS="$ES_STATE/logs"
    ES_PIDFILE="$ES_STATE/elasticsearch.pid"
    ES_LOG="$ES_LOGS/$ES_CLUSTER_NAME.log"
    ES_STARTUP_LOG="$ES_LOGS/startup.log"
}
es_use_state "$STATE_DIR/elasticsearch"
# What the cluster script (deploy/services/cluster) changes per node; the single node's values.
ES_NODE_NAME="$ES_CLUSTER_NAME-1"
ES_DISCOVERY="discovery.type: single-node"
ES_PLUGIN_NAME=yuqing-test-support
ES_PLUGIN_SRC="$SERVICES_DIR/elasticsearch/test-plugin/src"

elasticsearch_url() { echo "http://$LOOPBACK:$ES_PORT"; }
elasticsearch_env_name() { echo YUQING_ES_URL; }
# es_configure gives the server JVM a -Dyuqing.services.state=<state dir> flag
# that tells our node apart from any other Elasticsearch on the machine.
elasticsearch_pid() { live_pid "$ES_PIDFILE" "-Dyuqing.services.state=$ES_STATE "; }

# Elasticsearch 9 needs Java 21+; the machine default here is 17, so this
# usually lands on the newest JDK under /usr/lib/jvm (Temurin 25 on our CI).
es_select_java() {
    [[ -n ${ES_JAVA:-} ]] && return 0
    ES_JAVA=$(find_java "$ES_MIN_JAVA" "${YUQING_ES_JAVA_HOME:-}" "Elasticsearch") ||
        die "elasticsearch: Elasticsearch $ES_VERSION needs a JDK $ES_MIN_JAVA or newer and none was found (JAVA_HOME, PATH, /usr/lib/jvm). Install one (on Debian 13: apt-get install openjdk-21-jdk-headless) or set YUQING_ES_JAVA_HOME"
    [[ -x $ES_JAVA/bin/javac ]] ||
        die "elasticsearch: $ES_JAVA is a JRE; a full JDK is needed to compile the test plugin (set YUQING_ES_JAVA_HOME)"
}

# Unpack keeping the executable bits of bin/; python3 stands in for unzip.
es_unzip() {
    local zip=$1 dest=$2
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$zip" -d "$dest"
    elif command -v python3 >/dev/null 2>&1; then
        python3 - "$zip" "$dest" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode and not info.is_dir():
            os.chmod(path, mode & 0o777)
EOF
    else
        ensure_cmd unzip unzip
        unzip -q "$zip" -d "$dest"
    fi
}

# Download (into ~/.m2) and unpack once per version; the marker file makes an
# interrupted unpack start over instead of running half a distribution.
es_fetch() {
    [[ -f $ES_HOME/.complete ]] && return 0
    say "elasticsearch: fetching Elasticsearch $ES_VERSION from Maven Central (first run only, ~130 MB)..."
    local downloads="$CACHE_DIR/downloads" zip tmp
    mkdir -p "$downloads"
    run_mvn "the Elasticsearch $ES_VERSION integ-test-zip (not every 9.x release has one; see elasticsearch/pom.xml)" \
        -f "$SERVICES_DIR/elasticsearch/pom.xml" dependency:copy-dependencies \
        -Des.version="$ES_VERSION" -DoutputDirectory="$downloads"
    zip="$downloads/elasticsearch-$ES_VERSION.zip"
    [[ -f $zip ]] || die "elasticsearch: Maven finished but $zip is missing"
    tmp=$(mktemp -d "$CACHE_DIR/.unpack.XXXXXX")
    es_unzip "$zip" "$tmp" || die "elasticsearch: could not unpack $zip"
    [[ -x $tmp/elasticsearch-$ES_VERSION/bin/elasticsearch ]] ||
        die "elasticsearch: $zip does not hold elasticsearch-$ES_VERSION/bin/elasticsearch"
    rm -rf "$ES_HOME"
    mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
    # The zip stays in ~/.m2; this copy was only for unpacking.
    rm -rf "$tmp" "$zip"
    touch "$ES_HOME/.complete"
}

# Compile test-plugin against this very distribution and install it as a
# plugin directory. Rebuilt only when its source or the version changes.
es_build_plugin() {
    local dir="$ES_HOME/plugins/$ES_PLUGIN_NAME" hash tmp sources=()
    mapfile -t sources < <(find "$ES_PLUGIN_SRC" -name '*.java' | sort)
    ((${#sources[@]} > 0)) || die "elasticsearch: no plugin sources under $ES_PLUGIN_SRC"
    hash=$({
        cat "${sources[@]}"
        echo "$ES_VERSION"
    } | sha256sum | cut -d' ' -f1)
    # plugins/ of the cached distribution is ours alone (the zip ships it
    # empty): anything else there is an older build of ours, under an older
    # name, and would register the same analyzers twice.
    find "$ES_HOME/plugins" -mindepth 1 -maxdepth 1 ! -name "$ES_PLUGIN_NAME" -exec rm -rf {} +
    [[ -f $dir/.source-sha256 && $(<"$dir/.source-sha256") == "$hash" ]] && return 0

    say "elasticsearch: compiling the $ES_PLUGIN_NAME plugin against Elasticsearch $ES_VERSION..."
    tmp=$(mktemp -d)
    if ! "$ES_JAVA/bin/javac" --release "$ES_MIN_JAVA" -encoding UTF-8 -nowarn \
        -cp "$ES_HOME/lib/*" -d "$tmp/classes" "${sources[@]}" >"$tmp/javac.log" 2>&1; then
        show_log_tail "$tmp/javac.log" 40
        die "elasticsearch: $ES_PLUGIN_NAME does not compile against Elasticsearch $ES_VERSION; its plugin API has changed: adapt $ES_PLUGIN_SRC"
    fi
    "$ES_JAVA/bin/jar" --create --file "$tmp/$ES_PLUGIN_NAME.jar" -C "$tmp/classes" . ||
        die "elasticsearch: jar failed for $ES_PLUGIN_NAME"
    # A classic (non-stable-API) plugin must name the exact server version.
    cat >"$tmp/plugin-descriptor.properties" <<EOF
description=yuqing test node only: cjk analysis (cjk, cjk_width, cjk_bigram, whitespace tokenizer) and GET /
version=1.0.0
name=$ES_PLUGIN_NAME
classname=yuqing.esplugin.YuqingTestPlugin
java.version=$ES_MIN_JAVA
elasticsearch.version=$ES_VERSION
EOF
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$tmp/$ES_PLUGIN_NAME.jar" "$tmp/plugin-descriptor.properties" "$dir/"
    echo "$hash" >"$dir/.source-sha256"
    rm -rf "$tmp"
}

# Config lives in the state dir (ES_PATH_CONF), not in the unpacked
# distribution: the distribution stays read-only and shared, while
# Elasticsearch may write its keystore next to its config.
es_configure() {
    mkdir -p "$ES_CONF" "$ES_STATE/data" "$ES_LOGS" "$ES_STATE/tmp"
    # Defaults (jvm.options, log4j2.properties, ...) from the distribution on
    # every start, so a version change brings its own; the keystore is kept.
    cp -R "$ES_HOME/config/." "$ES_CONF/"
    cat >"$ES_CONF/elasticsearch.yml" <<EOF
# Generated by deploy/services/elasticsearch.sh on every start; edits are overwritten.
cluster.name: $ES_CLUSTER_NAME
node.name: $ES_NODE_NAME
path.data: $ES_STATE/data
path.logs: $ES_LOGS
# Loopback only. Binding to loopback also keeps the node in development mode,
# where failed bootstrap checks (vm.max_map_count, file descriptors) are
# warnings, not fatal.
network.host: $LOOPBACK
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
# One node, no discovery, elects itself (the cluster script writes its discovery here).
$ES_DISCOVERY
# CI disks are often more than 90% full; never block writes for that here.
cluster.routing.allocation.disk.threshold_enabled: false
# Plain HTTP, no users: a test node on loopback (production enables security).
xpack.security.enabled: false
# Tests clean up with wildcards (DELETE /yuqing-test-*).
action.destructive_requires_name: false
EOF
    cat >"$ES_CONF/jvm.options.d/yuqing.options" <<EOF
# Generated by deploy/services/elasticsearch.sh. Small fixed heap: the node
# shares 2 cores and the machine with Kafka and the test suite.
-Xms$ES_HEAP
-Xmx$ES_HEAP
# Marks the process as the node of this state dir (see elasticsearch_pid).
-Dyuqing.services.state=$ES_STATE
EOF
    if [[ $EUID -eq 0 ]]; then
        # Only what is not already the user's, so a large data dir is not
        # walked through chown on every start.
        find "$ES_STATE" ! -user "$ES_USER" -exec chown "$ES_USER:" {} +
        if ! as_service_user test -r "$ES_HOME/lib/elasticsearch-$ES_VERSION.jar" -a -w "$ES_STATE/data"; then
            die "elasticsearch: user $ES_USER cannot read $ES_HOME or write $ES_STATE. Every parent directory must be traversable by others (/root is mode 700): set YUQING_SERVICES_HOME to a directory such as /var/lib/yuqing-services"
        fi
    fi
}

elasticsearch_launch() {
    local pid
    if pid=$(elasticsearch_pid); then
        say "elasticsearch: already running (pid $pid)"
        return 0
    fi
    if port_open "$ES_PORT" || port_open "$ES_TRANSPORT_PORT"; then
        die "elasticsearch: port $ES_PORT or $ES_TRANSPORT_PORT on $LOOPBACK is taken by another process (not ours: no live pid in $ES_PIDFILE). Find it with: ss -ltnp '( sport = :$ES_PORT or sport = :$ES_TRANSPORT_PORT )'; or pick other ports with YUQING_ES_PORT / YUQING_ES_TRANSPORT_PORT"
    fi
    ensure_cmd curl curl
    es_select_java
    es_fetch
    es_build_plugin
    ensure_service_user elasticsearch
    es_configure

    [[ -f $ES_STARTUP_LOG ]] && mv -f "$ES_STARTUP_LOG" "$ES_STARTUP_LOG.prev"
    rm -f "$ES_PIDFILE"
    say "elasticsearch: starting Elasticsearch $ES_VERSION (Java $(java_major "$ES_JAVA")) on $LOOPBACK:$ES_PORT"
    # A clean environment, so an ES_JAVA_OPTS or JAVA_HOME of the caller does
    # not leak in; YUQING_ES_JAVA_OPTS is the way to add JVM flags.
    local cmd=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$ES_STATE"
        ES_JAVA_HOME="$ES_JAVA" ES_PATH_CONF="$ES_CONF" ES_TMPDIR="$ES_STATE/tmp"
        ES_JAVA_OPTS="${YUQING_ES_JAVA_OPTS:-}"
        "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE")
    [[ $EUID -eq 0 ]] && cmd=(runuser -u "$ES_USER" -- "${cmd[@]}")
    # -d: the launcher returns once the node has started (or failed) and the
    # server runs on alone. setsid -w gives it a session of its own, as for
    # Kafka, and waits for the launcher. The working directory is the log dir
    # because jvm.options writes gc.log and crash files relative to it. No
    # descriptor of ours or our caller's is passed on (close_inherited_fds).
    if ! (cd "$ES_LOGS" && close_inherited_fds && exec timeout "$START_TIMEOUT" setsid -w "${cmd[@]}") \
        </dev/null >"$ES_STARTUP_LOG" 2>&1; then
        show_log_tail "$ES_STARTUP_LOG" 40
        [[ -f $ES_LOG ]] && show_log_tail "$ES_LOG" 40
        pid=$(elasticsearch_pid) && stop_pid elasticsearch "$pid"
        die "elasticsearch: the node did not start; see $ES_STARTUP_LOG and $ES_LOG (above)"
    fi
}

elasticsearch_wait() {
    local deadline=$((SECONDS + START_TIMEOUT)) pid url out
    url=$(elasticsearch_url)
    # Yellow is enough: a lone node cannot place replicas.
    until curl -fsS --max-time 10 "$url/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null |
        grep -q '"timed_out":false'; do
        if ! pid=$(elasticsearch_pid); then
            show_log_tail "$ES_LOG"
            die "elasticsearch: the node is not running (no live pid in $ES_PIDFILE); see $ES_LOG"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$ES_LOG"
            stop_pid elasticsearch "$pid"
            die "elasticsearch: cluster health not yellow on $url after ${START_TIMEOUT}s (YUQING_START_TIMEOUT); see $ES_LOG"
        fi
        sleep 1
    done
    pid=$(elasticsearch_pid) || die "elasticsearch: answered but no live pid in $ES_PIDFILE"
    # The mappings need CJK analysis; prove the plugin is loaded before tests run.
    out=$(curl -sS --max-time 10 -H 'Content-Type: application/json' "$url/_analyze" \
        -d '{"analyzer":"cjk","text":"纪委监委"}' 2>&1) || true
    if [[ $out != *'"token":"纪委"'* ]]; then
        printf '%s\n' "$out" >&2
        die "elasticsearch: the cjk analyzer does not work (plugin $ES_PLUGIN_NAME not loaded?); see $ES_LOG"
    fi
    say "elasticsearch: ready (pid $pid) at $url"
}

elasticsearch_stop() {
    local pid
    if pid=$(elasticsearch_pid); then
        say "elasticsearch: stopping (pid $pid)..."
        stop_pid elasticsearch "$pid"
        say "elasticsearch: stopped"
    else
        say "elasticsearch: not running"
    fi
    rm -f "$ES_PIDFILE"
}

elasticsearch_status() {
    local pid health
    if ! pid=$(elasticsearch_pid); then
        say "elasticsearch: stopped"
        return 1
    fi
    health=$(curl -fsS --max-time 5 "$(elasticsearch_url)/_cluster/health" 2>/dev/null |
        sed -n 's/.*"status":"\([a-z]*\)".*/\1/p') || true
    if [[ -z $health ]]; then
        say "elasticsearch: starting or unhealthy (pid $pid, no answer on $(elasticsearch_url))"
        return 1
    fi
    say "elasticsearch: running (pid $pid) $(elasticsearch_url) version $ES_VERSION health $health"
}
