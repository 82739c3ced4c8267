#!/usr/bin/env bash
# Installs the stream peers of `npm run bench:peers` (Apache Flink, Spark Structured Streaming)
# into .cache/peers/. Not part of the default provisioning: the peers are benchmark-only.
# Idempotent; a second run starts neither Maven nor pip (stamp files), so it works offline.
#
#   bash scripts/provision-peers.sh
#
# Flink comes from Maven Central as plain jars run by a small Java program in a local
# mini-cluster (137 MB in 56 jars). PyFlink (PyPI apache-flink 2.3.0) would download 422 MB in 53
# wheels (its jars alone are 329 MB, then Beam, pyarrow, pandas …), still without the Kafka and
# JDBC connectors, and starts the same JVM behind a Python process (BENCHMARKS.md, "Stream peers").
# Spark comes from PyPI (pyspark, which ships its jars) plus its Kafka source from Maven Central.
# Env: FLINK_VERSION, FLINK_KAFKA_VERSION, FLINK_JDBC_VERSION, SPARK_VERSION, PG_JDBC_VERSION.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/.cache/peers"

# The Kafka SQL connector is built per Flink minor; the JDBC connector has one 2.x line.
FLINK_VERSION="${FLINK_VERSION:-2.2.1}"
FLINK_KAFKA_VERSION="${FLINK_KAFKA_VERSION:-5.0.0-2.2}"
FLINK_JDBC_VERSION="${FLINK_JDBC_VERSION:-4.0.0-2.0}"
# The newest Spark whose Kafka source is on Maven Central; pyspark must be the same version.
SPARK_VERSION="${SPARK_VERSION:-4.2.0}"
PG_JDBC_VERSION="${PG_JDBC_VERSION:-42.7.14}"
SLF4J_VERSION="${SLF4J_VERSION:-2.0.20}"
LOG4J_VERSION="${LOG4J_VERSION:-2.26.1}"
DEP_PLUGIN_VERSION="3.8.1"

log() { printf '[provision-peers %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[provision-peers] ERROR: %s\n' "$*" >&2; exit 1; }

jdk17="$(compgen -G '/usr/lib/jvm/java-17-openjdk-*' | head -n1 || true)"
if [ -n "$jdk17" ] && [ -x "$jdk17/bin/javac" ]; then export JAVA_HOME="$jdk17"; fi
command -v mvn >/dev/null 2>&1 || die "mvn missing: run bash scripts/provision.sh first"

mkdir -p "$PEERS"

# ---- Flink: jars from Maven Central ------------------------------------------------------------
FLINK_LIB="$PEERS/flink/lib"
flink_stamp="flink=$FLINK_VERSION kafka=$FLINK_KAFKA_VERSION jdbc=$FLINK_JDBC_VERSION pg=$PG_JDBC_VERSION spark-kafka=$SPARK_VERSION spark-pg"
if [ -f "$PEERS/jars.stamp" ] && [ "$(cat "$PEERS/jars.stamp")" = "$flink_stamp" ]; then
  log "jars present ($flink_stamp)"
else
  log "resolving jars ($flink_stamp)"
  rm -rf "$FLINK_LIB" "$PEERS/spark/jars" && mkdir -p "$FLINK_LIB" "$PEERS/spark/jars" "$PEERS/maven"
  dep() { printf '    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' "$1" "$2" "$3"; }
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<project>\n  <modelVersion>4.0.0</modelVersion>\n'
    printf '  <groupId>tidemark.local</groupId><artifactId>peers</artifactId><version>0</version><packaging>pom</packaging>\n'
    printf '  <profiles><profile><id>flink</id><activation><activeByDefault>false</activeByDefault></activation><dependencies>\n'
    for a in flink-clients flink-table-api-java flink-table-planner-loader flink-table-runtime flink-json flink-connector-base; do
      dep org.apache.flink "$a" "$FLINK_VERSION"
    done
    dep org.apache.flink flink-sql-connector-kafka "$FLINK_KAFKA_VERSION"
    dep org.apache.flink flink-connector-jdbc-core "$FLINK_JDBC_VERSION"
    dep org.apache.flink flink-connector-jdbc-postgres "$FLINK_JDBC_VERSION"
    dep org.postgresql postgresql "$PG_JDBC_VERSION"
    dep org.slf4j slf4j-api "$SLF4J_VERSION"
    dep org.apache.logging.log4j log4j-slf4j2-impl "$LOG4J_VERSION"
    dep org.apache.logging.log4j log4j-core "$LOG4J_VERSION"
    printf '  </dependencies></profile>\n'
    # pyspark ships Spark itself: only the Kafka source, what it needs beyond Spark's own jars, and
    # the JDBC driver for the staging writes.
    printf '  <profile><id>spark</id><dependencies>\n'
    dep org.apache.spark spark-sql-kafka-0-10_2.13 "$SPARK_VERSION"
    dep org.postgresql postgresql "$PG_JDBC_VERSION"
    printf '  </dependencies></profile></profiles>\n'
    printf '  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>%s</version></plugin></plugins></build>\n</project>\n' "$DEP_PLUGIN_VERSION"
  } >"$PEERS/maven/pom.xml"
  mvn_copy() {
    mvn -B -q -f "$PEERS/maven/pom.xml" -P "$1" dependency:copy-dependencies \
      -DoutputDirectory="$2" -DincludeScope=runtime "${@:3}" >"$PEERS/maven/mvn-$1.log" 2>&1 \
      || { tail -n 40 "$PEERS/maven/mvn-$1.log" >&2; die "maven could not resolve the $1 jars"; }
  }
  mvn_copy flink "$FLINK_LIB"
  # Spark's own jars (and their versions) come with pyspark: keep only what it lacks.
  mvn_copy spark "$PEERS/spark/jars" -DincludeArtifactIds=spark-sql-kafka-0-10_2.13,spark-token-provider-kafka-0-10_2.13,kafka-clients,commons-pool2,postgresql
  printf '%s' "$flink_stamp" >"$PEERS/jars.stamp"
  log "jars ready: $(ls "$FLINK_LIB" | wc -l) flink, $(ls "$PEERS/spark/jars" | wc -l) spark-kafka"
fi

# The Flink job is one Java file: compile it once per change of source or jars.
FLINK_SRC="$ROOT/bench/peers/flink/FlinkPeer.java"
FLINK_CLASSES="$PEERS/flink/classes"
src_sum="$(sha256sum "$FLINK_SRC" | cut -c1-16)-$(cat "$PEERS/jars.stamp" | sha256sum | cut -c1-16)"
if [ -f "$FLINK_CLASSES/.stamp" ] && [ "$(cat "$FLINK_CLASSES/.stamp")" = "$src_sum" ]; then
  log "flink job compiled"
else
  rm -rf "$FLINK_CLASSES" && mkdir -p "$FLINK_CLASSES"
  javac -d "$FLINK_CLASSES" -cp "$FLINK_LIB/*" "$FLINK_SRC" || die "javac failed"
  printf '%s' "$src_sum" >"$FLINK_CLASSES/.stamp"
  log "flink job compiled"
fi

# ---- Spark: pyspark from PyPI ------------------------------------------------------------------
VENV="$PEERS/spark/venv"
spark_stamp="pyspark=$SPARK_VERSION psycopg=3"
if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$spark_stamp" ]; then
  log "spark venv present ($spark_stamp)"
else
  log "creating spark venv ($spark_stamp)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pyspark==$SPARK_VERSION" 'psycopg[binary]>=3.2,<4' \
    || die "pip install failed"
  printf '%s' "$spark_stamp" >"$VENV/.stamp"
  log "spark venv ready"
fi
log "peers ready in $PEERS"
