#!/usr/bin/env bash
# Installs everything the test services and the build need on a Debian 12 machine
# without Docker. Idempotent: a second run only checks what is there.
#
#   bash scripts/provision.sh [--chromium] [--superset]
#
# Env: PROVISION_CHROMIUM=1 (also install Debian chromium), PROVISION_SUPERSET=1 (also the
#      pinned Superset in .cache/superset-venv, scripts/provision-superset.sh), KAFKA_VERSION,
#      S3PROXY_VERSION, LOG4J_VERSION, SLF4J_VERSION (override the pinned versions).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
S3PROXY_VERSION="${S3PROXY_VERSION:-3.0.0}"
LOG4J_VERSION="${LOG4J_VERSION:-2.26.1}"
SLF4J_VERSION="${SLF4J_VERSION:-2.0.20}"
DEP_PLUGIN_VERSION="3.8.1"

for arg in "$@"; do
  case "$arg" in
    --chromium) PROVISION_CHROMIUM=1 ;;
    --superset) PROVISION_SUPERSET=1 ;;
    *) echo "usage: $0 [--chromium] [--superset]" >&2; exit 2 ;;
  esac
done

log() { printf '[provision %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# Another apt/dpkg run (e.g. a teammate's install) holds the lock: wait for it instead of failing.
wait_for_apt() {
  local waited=0
  while pgrep -x 'apt-get|apt|dpkg|unattended-upgr' >/dev/null 2>&1; do
    if [ "$waited" -eq 0 ]; then log "waiting for another apt/dpkg process to finish"; fi
    if [ "$waited" -ge 1200 ]; then die "apt/dpkg still busy after ${waited}s"; fi
    sleep 3; waited=$((waited + 3))
  done
}

apt_install() {
  wait_for_apt
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$CACHE"
  # dpkg is chatty even with -qq: keep its output in a log, show it only on failure.
  local aptlog="$CACHE/apt.log"
  log "apt-get update (needed for: $*)"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq >"$aptlog" 2>&1 \
    || { tail -n 30 "$aptlog" >&2; die "apt-get update failed (log: $aptlog)"; }
  log "apt-get install $*"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" >>"$aptlog" 2>&1 \
    || { tail -n 30 "$aptlog" >&2; die "apt-get install failed (log: $aptlog)"; }
}

java_major() {
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  echo "${v:-0}"
}

# ---- Debian packages -------------------------------------------------------
# prometheus (and its promtool): the compose test runs compose's Prometheus service natively.
want=(postgresql-15 redis-server curl ca-certificates prometheus)
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  want+=(openjdk-17-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || want+=(maven)
if [ "${PROVISION_CHROMIUM:-0}" = "1" ]; then want+=(chromium); fi

missing=()
for p in "${want[@]}"; do is_installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
  # On a machine with systemd, Debian starts the package's own Prometheus on :9090, scraping
  # this host: the tests start their own, so the system one is stopped and stays off.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
else
  log "apt packages present: ${want[*]}"
fi

if [ "$(java_major)" -lt 17 ]; then
  # A JDK older than 17 may still be first on PATH; Kafka 4 needs 17.
  jdk17="$(compgen -G '/usr/lib/jvm/java-17-openjdk-*' | head -n1 || true)"
  [ -n "$jdk17" ] || die "Java 17 not found after install"
  log "note: 'java' on PATH is older than 17; services.sh uses $jdk17"
fi

# ---- Java artifacts: Kafka broker + tools, log4j2 backend, s3proxy ---------
# Maven keeps its own repository (~/.m2) across clones, so a fresh clone on a warm
# machine only copies jars; a stamp avoids even starting Maven on a second run.
KAFKA_LIBS="$CACHE/kafka/libs"
S3_DIR="$CACHE/s3proxy"
stamp_want="kafka=$KAFKA_VERSION log4j=$LOG4J_VERSION slf4j=$SLF4J_VERSION s3proxy=$S3PROXY_VERSION"
stamp_file="$CACHE/java-artifacts.stamp"

if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_want" ] \
   && [ -f "$S3_DIR/s3proxy.jar" ] && compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
  log "java artifacts present ($stamp_want)"
else
  log "resolving java artifacts ($stamp_want)"
  mkdir -p "$CACHE/maven"
  rm -rf "$KAFKA_LIBS" "$S3_DIR"
  mkdir -p "$KAFKA_LIBS" "$S3_DIR"
  # One generated pom, two copy executions, so Maven starts only once.
  cat >"$CACHE/maven/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>tidemark.local</groupId>
  <artifactId>test-services</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <!-- TopicCommand etc., used for readiness checks and by humans -->
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions>
        <!-- Kafka Connect (Jetty, Jersey, ...) is not needed and does not fully resolve -->
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <!-- Kafka pulls slf4j-api 1.7, which cannot see an slf4j 2 provider: pin 2.x here -->
      <groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <!-- Kafka logs through slf4j; without a backend the broker is silent -->
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <!-- self-contained jar: its declared dependencies are already inside -->
      <groupId>org.gaul</groupId><artifactId>s3proxy</artifactId><version>$S3PROXY_VERSION</version>
      <classifier>jar-with-dependencies</classifier>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>$DEP_PLUGIN_VERSION</version>
        <executions>
          <execution>
            <id>kafka</id>
            <configuration>
              <outputDirectory>$KAFKA_LIBS</outputDirectory>
              <includeScope>runtime</includeScope>
              <excludeArtifactIds>s3proxy</excludeArtifactIds>
            </configuration>
          </execution>
          <execution>
            <id>s3proxy</id>
            <configuration>
              <outputDirectory>$S3_DIR</outputDirectory>
              <includeArtifactIds>s3proxy</includeArtifactIds>
              <excludeTransitive>true</excludeTransitive>
            </configuration>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  # -B: no colour/progress noise in CI logs.
  if ! mvn -B -q -f "$CACHE/maven/pom.xml" \
        dependency:copy-dependencies@kafka dependency:copy-dependencies@s3proxy \
        >"$CACHE/maven/mvn.log" 2>&1; then
    tail -n 40 "$CACHE/maven/mvn.log" >&2
    die "maven could not resolve the java artifacts (log: $CACHE/maven/mvn.log)"
  fi
  s3jar="$(compgen -G "$S3_DIR/s3proxy-*-jar-with-dependencies.jar" | head -n1 || true)"
  [ -n "$s3jar" ] || die "s3proxy jar missing after maven run"
  mv "$s3jar" "$S3_DIR/s3proxy.jar"
  compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null || die "kafka jars missing after maven run"
  printf '%s' "$stamp_want" >"$stamp_file"
  log "java artifacts ready: $(compgen -G "$KAFKA_LIBS/*.jar" | wc -l) kafka jars, s3proxy $S3PROXY_VERSION"
fi

# ---- npm dependencies ------------------------------------------------------
# npm records the installed tree in node_modules/.package-lock.json; a newer
# package-lock.json means the tree is stale.
if [ ! -d "$ROOT/node_modules" ] || [ ! -f "$ROOT/node_modules/.package-lock.json" ] \
   || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
else
  log "node_modules up to date"
fi

# ---- Superset (opt-in) --------------------------------------------------------
# Only the Superset import test needs it; its own script is idempotent and fast when warm.
if [ "${PROVISION_SUPERSET:-0}" = "1" ]; then
  bash "$ROOT/scripts/provision-superset.sh"
fi

log "done"
