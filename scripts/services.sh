#!/usr/bin/env bash
# Real test services as plain background processes (no Docker):
# PostgreSQL 15, Redis, a single-node KRaft Kafka broker and s3proxy.
#
#   bash scripts/services.sh up|down|status
#
# State lives in .services/ (git-ignored); `up` is a no-op for what already runs and
# restarts from the existing data dirs. Run scripts/provision.sh first.
# Env: TIDEMARK_PORT_OFFSET=N shifts every port by N (e.g. a second checkout on
# the same machine); the offset in use is remembered in .services/ports.env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="$ROOT/.services"
CACHE="$ROOT/.cache"
KAFKA_LIBS="$CACHE/kafka/libs"
S3PROXY_JAR="$CACHE/s3proxy/s3proxy.jar"
PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"

DB_USER=tidemark
DB_PASSWORD=tidemark
DB_NAME=tidemark_test
S3_ACCESS_KEY=tidemark
S3_SECRET_KEY=tidemark-secret
S3_BUCKET=tidemark-test

log() { printf '[services %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# Error with the end of the service's log, so CI output shows why.
fail() {
  local logfile="$1"; shift
  printf '[services] ERROR: %s\n' "$*" >&2
  if [ -f "$logfile" ]; then
    printf '[services] --- last 40 lines of %s ---\n' "$logfile" >&2
    tail -n 40 "$logfile" >&2 || true
    printf '[services] --- end of log ---\n' >&2
  fi
  exit 1
}

# ---- ports -----------------------------------------------------------------
if [ -z "${TIDEMARK_PORT_OFFSET:-}" ] && [ -f "$SVC/ports.env" ]; then
  # shellcheck disable=SC1091
  . "$SVC/ports.env"
fi
OFFSET="${TIDEMARK_PORT_OFFSET:-0}"
case "$OFFSET" in ''|*[!0-9]*) die "TIDEMARK_PORT_OFFSET must be a non-negative integer" ;; esac
PG_PORT=$((55432 + OFFSET))
REDIS_PORT=$((56379 + OFFSET))
KAFKA_PORT=$((59092 + OFFSET))
KAFKA_CONTROLLER_PORT=$((59093 + OFFSET))
S3_PORT=$((58000 + OFFSET))

# ---- helpers ---------------------------------------------------------------
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pid from a pidfile if that process is alive and its command line mentions $2
# (guards against a stale pidfile whose pid was reused after a reboot).
live_pid() {
  local pidfile="$1" pattern="$2" pid
  [ -f "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
  echo "$pid"
}

port_free_or_die() {
  local port="$1" name="$2"
  if port_open "$port"; then
    die "$name: port $port is already taken by a process this checkout did not start (another checkout's services?). Stop it, or pick other ports with TIDEMARK_PORT_OFFSET=<n>."
  fi
}

stop_pid() {
  local pid="$1" name="$2" grace="$3" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "$name did not stop within ${grace}s; killing"
  kill -KILL "$pid" 2>/dev/null || true
}

JAVA="java"
java_major() {
  local v
  v="$("$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  echo "${v:-0}"
}
pick_java() {
  command -v java >/dev/null 2>&1 || die "java not found: run scripts/provision.sh"
  if [ "$(java_major java)" -lt 17 ]; then
    local j
    j="$(compgen -G '/usr/lib/jvm/java-17-openjdk-*/bin/java' | head -n1 || true)"
    [ -n "$j" ] || die "Java 17+ required: run scripts/provision.sh"
    JAVA="$j"
  fi
}

# PostgreSQL refuses to run as root: run its tools as the postgres OS user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# ---- PostgreSQL ------------------------------------------------------------
PG_HOME="$SVC/pg"

pg_paths() {
  # The postgres user must be able to reach the data dir; a checkout under a
  # private home (e.g. /root) is not reachable, so keep the data elsewhere then.
  if [ "$(id -u)" -eq 0 ] && [ ! -L "$PG_HOME" ] && [ ! -d "$PG_HOME" ]; then
    mkdir -p "$SVC"
    if ! runuser -u postgres -- test -x "$SVC" 2>/dev/null; then
      local alt
      alt="/var/tmp/tidemark-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
      # This checkout has no state yet, so leftovers of an earlier clone at the same path go.
      rm -rf "$alt"
      mkdir -p "$alt"
      ln -s "$alt" "$PG_HOME"
      log "postgres: $SVC is private to root; data lives in $alt"
    fi
  fi
  # The outside data dir may have been cleaned away (e.g. after a reboot): recreate it.
  if [ -L "$PG_HOME" ] && [ ! -e "$PG_HOME" ]; then mkdir -p "$(readlink "$PG_HOME")"; fi
  mkdir -p "$PG_HOME"
  PG_HOME_REAL="$(cd "$PG_HOME" && pwd -P)"
  PG_DATA="$PG_HOME_REAL/data"
  PG_LOG="$PG_HOME_REAL/postgres.log"
  PG_SOCK="$PG_HOME_REAL/run"
  # Unix socket paths are limited to ~107 bytes.
  if [ "${#PG_SOCK}" -gt 80 ]; then PG_SOCK="/tmp/tidemark-pg-$PG_PORT"; fi
}

pg_running() {
  [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BINDIR/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_up() {
  local t0=$SECONDS
  [ -x "$PG_BINDIR/pg_ctl" ] || die "PostgreSQL 15 not found in $PG_BINDIR: run scripts/provision.sh"
  pg_paths
  if pg_running; then
    log "postgres: already running on $PG_PORT"
  else
    port_free_or_die "$PG_PORT" postgres
    mkdir -p "$PG_SOCK"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_HOME_REAL" "$PG_SOCK"; fi
    chmod 700 "$PG_HOME_REAL"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      log "postgres: initdb"
      # Socket logins are trusted (admin as the postgres OS user); TCP needs a password.
      as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_HOME_REAL/initdb.log" 2>&1 \
        || fail "$PG_HOME_REAL/initdb.log" "postgres: initdb failed"
      echo "include_if_exists = 'tidemark.conf'" >>"$PG_DATA/postgresql.conf"
    fi
    # Rewritten on every start so a changed port offset takes effect.
    cat >"$PG_DATA/tidemark.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
# Throwaway test data: trade crash safety for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_DATA/tidemark.conf"; fi
    log "postgres: starting on $PG_PORT"
    as_pg "$PG_BINDIR/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 >/dev/null 2>&1 9>&- \
      || fail "$PG_LOG" "postgres: did not start on port $PG_PORT"
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    as_pg "$PG_BINDIR/pg_isready" -q -h "$PG_SOCK" -p "$PG_PORT" && break
    sleep 0.5
  done
  as_pg "$PG_BINDIR/pg_isready" -q -h "$PG_SOCK" -p "$PG_PORT" || fail "$PG_LOG" "postgres: not ready after 30s"
  # Idempotent: role (CREATEDB so tests can make throwaway databases) and database.
  as_pg "$PG_BINDIR/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<EOF \
    || fail "$PG_LOG" "postgres: could not create role/database"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN CREATE ROLE $DB_USER; END IF;
END \$\$;
ALTER ROLE $DB_USER WITH LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \gexec
EOF
  PGPASSWORD="$DB_PASSWORD" "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" \
    -c 'SELECT 1' >/dev/null 2>&1 || fail "$PG_LOG" "postgres: password login as $DB_USER failed"
  log "postgres: ready on 127.0.0.1:$PG_PORT ($((SECONDS - t0))s)"
}

pg_down() {
  [ -e "$PG_HOME" ] || return 0
  pg_paths
  if pg_running; then
    log "postgres: stopping"
    as_pg "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>&1 \
      || fail "$PG_LOG" "postgres: did not stop"
  fi
}

pg_status() {
  if [ -e "$PG_HOME" ]; then pg_paths; fi
  if [ -n "${PG_DATA:-}" ] && pg_running && port_open "$PG_PORT"; then
    echo "postgres  up    127.0.0.1:$PG_PORT  log $PG_LOG"
  else
    echo "postgres  down  ($PG_PORT)"; return 1
  fi
}

# ---- Redis -----------------------------------------------------------------
REDIS_DIR="$SVC/redis"
REDIS_PID="$SVC/redis.pid"
REDIS_LOG="$SVC/redis.log"

redis_up() {
  local t0=$SECONDS
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found: run scripts/provision.sh"
  if live_pid "$REDIS_PID" redis-server >/dev/null; then
    log "redis: already running on $REDIS_PORT"
  else
    port_free_or_die "$REDIS_PORT" redis
    mkdir -p "$REDIS_DIR"
    # BullMQ needs noeviction; AOF keeps queued jobs across restarts.
    cat >"$SVC/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
dir $REDIS_DIR
appendonly yes
appendfsync everysec
maxmemory-policy noeviction
save ""
EOF
    log "redis: starting on $REDIS_PORT"
    : >"$REDIS_LOG"
    redis-server "$SVC/redis.conf" 9>&- || fail "$REDIS_LOG" "redis: failed to start"
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.5
  done
  [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ] || fail "$REDIS_LOG" "redis: no PONG after 30s"
  log "redis: ready on 127.0.0.1:$REDIS_PORT ($((SECONDS - t0))s)"
}

redis_down() {
  local pid
  if pid="$(live_pid "$REDIS_PID" redis-server)"; then
    log "redis: stopping"
    # SHUTDOWN flushes the AOF; fall back to a signal if it does not answer.
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    stop_pid "$pid" redis 20
  fi
}

redis_status() {
  if live_pid "$REDIS_PID" redis-server >/dev/null && port_open "$REDIS_PORT"; then
    echo "redis     up    127.0.0.1:$REDIS_PORT  log $REDIS_LOG"
  else
    echo "redis     down  ($REDIS_PORT)"; return 1
  fi
}

# ---- Kafka (KRaft, broker+controller in one JVM) ----------------------------
KAFKA_DIR="$SVC/kafka"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"

kafka_tool() {
  # Short-lived CLI JVM: C1 only and serial GC start faster on 2 cores.
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$KAFKA_LIBS/*" "$@"
}

# Start (if needed) without waiting, so the two JVMs boot side by side.
kafka_start() {
  KAFKA_T0=$SECONDS
  compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null || die "Kafka jars missing in $KAFKA_LIBS: run scripts/provision.sh"
  pick_java
  if live_pid "$KAFKA_PID" kafka.Kafka >/dev/null; then
    log "kafka: already running on $KAFKA_PORT"
  else
    port_free_or_die "$KAFKA_PORT" kafka
    port_free_or_die "$KAFKA_CONTROLLER_PORT" "kafka controller"
    mkdir -p "$KAFKA_DIR/data"
    cat >"$KAFKA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
auto.create.topics.enable=false
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions: the first consumer group on a fresh broker is ready sooner.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Tests join groups constantly: do not wait 3s for more members.
group.initial.rebalance.delay.ms=0
EOF
    cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
    if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
      local cid
      # Kafka cluster ids are 16 random bytes in URL-safe base64; one must not start with '-'.
      cid="-"
      while [ "${cid#-}" != "$cid" ]; do
        cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
      done
      log "kafka: formatting storage (cluster $cid)"
      kafka_tool kafka.tools.StorageTool format --standalone -t "$cid" -c "$KAFKA_DIR/server.properties" \
        >"$KAFKA_DIR/format.log" 2>&1 || fail "$KAFKA_DIR/format.log" "kafka: storage format failed"
    fi
    log "kafka: starting on $KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
    : >"$KAFKA_LOG"
    # setsid: own session, so a CI shell's terminal signals do not reach the broker.
    setsid "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
      >>"$KAFKA_LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$KAFKA_PID"
  fi
}

kafka_wait() {
  local i pid t0=$KAFKA_T0
  for ((i = 0; i < 240; i++)); do
    port_open "$KAFKA_PORT" && break
    pid="$(live_pid "$KAFKA_PID" kafka.Kafka)" || fail "$KAFKA_LOG" "kafka: broker process exited during startup"
    sleep 0.5
  done
  port_open "$KAFKA_PORT" || fail "$KAFKA_LOG" "kafka: port $KAFKA_PORT not open after 120s"
  # An open port is not enough: wait until a metadata request is answered.
  for ((i = 0; i < 20; i++)); do
    if timeout 30 "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$KAFKA_LIBS/*" \
         org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list \
         >"$KAFKA_DIR/ready-check.log" 2>&1; then
      log "kafka: ready on 127.0.0.1:$KAFKA_PORT ($((SECONDS - t0))s)"
      return 0
    fi
    live_pid "$KAFKA_PID" kafka.Kafka >/dev/null || fail "$KAFKA_LOG" "kafka: broker process exited during startup"
    sleep 1
  done
  cat "$KAFKA_DIR/ready-check.log" >&2 || true
  fail "$KAFKA_LOG" "kafka: broker does not answer metadata requests"
}

kafka_down() {
  local pid
  if pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"; then
    log "kafka: stopping"
    stop_pid "$pid" kafka 60
  fi
  rm -f "$KAFKA_PID"
}

kafka_status() {
  if live_pid "$KAFKA_PID" kafka.Kafka >/dev/null && port_open "$KAFKA_PORT"; then
    echo "kafka     up    127.0.0.1:$KAFKA_PORT  log $KAFKA_LOG"
  else
    echo "kafka     down  ($KAFKA_PORT)"; return 1
  fi
}

# ---- s3proxy (S3 API over the local filesystem) ----------------------------
S3_DIR="$SVC/s3"
S3_PID="$SVC/s3proxy.pid"
S3_LOG="$SVC/s3proxy.log"

# Signed request with an empty body. s3proxy requires x-amz-content-sha256, which
# this curl does not add by itself: send the hash of the empty payload.
s3_curl() {
  curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "$@"
}

s3_start() {
  S3_T0=$SECONDS
  [ -f "$S3PROXY_JAR" ] || die "s3proxy jar missing ($S3PROXY_JAR): run scripts/provision.sh"
  pick_java
  if live_pid "$S3_PID" s3proxy >/dev/null; then
    log "s3proxy: already running on $S3_PORT"
  else
    port_free_or_die "$S3_PORT" s3proxy
    mkdir -p "$S3_DIR"
    cat >"$SVC/s3proxy.conf" <<EOF
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY
s3proxy.credential=$S3_SECRET_KEY
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$S3_DIR
EOF
    log "s3proxy: starting on $S3_PORT"
    : >"$S3_LOG"
    setsid "$JAVA" -Xmx256m -XX:+UseSerialGC -jar "$S3PROXY_JAR" --properties "$SVC/s3proxy.conf" \
      >>"$S3_LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$S3_PID"
  fi
}

s3_wait() {
  local i code=000 t0=$S3_T0
  for ((i = 0; i < 120; i++)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/" 2>/dev/null || true)"
    [ "$code" != "000" ] && break
    live_pid "$S3_PID" s3proxy >/dev/null || fail "$S3_LOG" "s3proxy: process exited during startup"
    sleep 0.5
  done
  [ "$code" != "000" ] || fail "$S3_LOG" "s3proxy: no HTTP answer on $S3_PORT after 60s"
  # Create the bucket through the API (signed PUT); 409 = it already exists.
  code="$(s3_curl -o "$SVC/s3-bucket.out" -w '%{http_code}' -X PUT "http://127.0.0.1:$S3_PORT/$S3_BUCKET" || true)"
  case "$code" in
    200|409) ;;
    *) cat "$SVC/s3-bucket.out" >&2 2>/dev/null || true
       fail "$S3_LOG" "s3proxy: creating bucket $S3_BUCKET answered HTTP $code" ;;
  esac
  code="$(s3_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/$S3_BUCKET?list-type=2" || true)"
  [ "$code" = "200" ] || fail "$S3_LOG" "s3proxy: listing bucket $S3_BUCKET answered HTTP $code"
  log "s3proxy: ready on http://127.0.0.1:$S3_PORT, bucket $S3_BUCKET ($((SECONDS - t0))s)"
}

s3_down() {
  local pid
  if pid="$(live_pid "$S3_PID" s3proxy)"; then
    log "s3proxy: stopping"
    stop_pid "$pid" s3proxy 20
  fi
  rm -f "$S3_PID"
}

s3_status() {
  if live_pid "$S3_PID" s3proxy >/dev/null && port_open "$S3_PORT"; then
    echo "s3proxy   up    http://127.0.0.1:$S3_PORT  log $S3_LOG"
  else
    echo "s3proxy   down  ($S3_PORT)"; return 1
  fi
}

# ---- env file for tests ----------------------------------------------------
write_env() {
  pg_paths
  cat >"$SVC/env.sh.tmp" <<EOF
# Written by scripts/services.sh up: source it before running tests.
export TEST_DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
# Superuser over the trusted local socket: only tests that create cluster roles use it.
export TEST_DATABASE_ADMIN_URL="postgresql://postgres@localhost:$PG_PORT/postgres?host=$PG_SOCK"
export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export TEST_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY
export TEST_S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export TEST_S3_BUCKET=$S3_BUCKET
export TEST_S3_FORCE_PATH_STYLE=true
export TEST_S3_REGION=us-east-1
EOF
  mv "$SVC/env.sh.tmp" "$SVC/env.sh"
}

# ---- commands --------------------------------------------------------------
cmd="${1:-}"
mkdir -p "$SVC"
# One `up`/`down` at a time per checkout (two parallel `up`s would race on pidfiles).
# Every daemon is started with fd 9 closed so it does not keep holding this lock.
exec 9>"$SVC/.lock"
case "$cmd" in
  up|down) flock -w 300 9 || die "another services.sh up/down is still running" ;;
esac

case "$cmd" in
  up)
    t_all=$SECONDS
    echo "TIDEMARK_PORT_OFFSET=$OFFSET" >"$SVC/ports.env"
    pg_up
    redis_up
    kafka_start
    s3_start
    kafka_wait
    s3_wait
    write_env
    log "all services up in $((SECONDS - t_all))s; env: source .services/env.sh"
    ;;
  down)
    s3_down
    kafka_down
    redis_down
    pg_down
    log "all services down"
    ;;
  status)
    rc=0
    pg_status || rc=3
    redis_status || rc=3
    kafka_status || rc=3
    s3_status || rc=3
    exit "$rc"
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
