"""Spark Structured Streaming peer of tidemark's per-minute traffic and 1 h top documents.

The original design's job: Kafka -> 10-minute watermark -> windowed aggregations (distinct counts
with approx_count_distinct, the only distinct count Spark streams) -> foreachBatch upserts into
PostgreSQL. Runs with trigger(availableNow), so it stops once the topic is consumed to the end
offsets it found at start. Arguments come from the environment (see bench/peers/engines.ts).
"""
import os

import psycopg
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

env = os.environ
jdbc = {"url": env["PEER_JDBC_URL"], "user": env["PEER_DB_USER"], "password": env["PEER_DB_PASSWORD"],
        "driver": "org.postgresql.Driver"}

spark = (
    SparkSession.builder.master("local[2]").appName("tidemark-peer")
    .config("spark.jars", env["PEER_SPARK_JARS"])
    .config("spark.driver.memory", env.get("PEER_HEAP", "4g"))
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
    # 200 shuffle partitions (the default) on two cores is all task overhead.
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")

schema = StructType([StructField(n, StringType()) for n in
                     ["event_id", "event_ts", "session_id", "document_id", "title", "clinical_area"]])


def events():
    raw = (spark.readStream.format("kafka")
           .option("kafka.bootstrap.servers", env["PEER_BROKERS"])
           .option("subscribe", env["PEER_TOPIC"])
           .option("startingOffsets", "earliest")
           # Micro-batches of bounded size, as a production job runs, which also bounds the
           # state store's growth per batch on a 4 GiB driver.
           .option("maxOffsetsPerTrigger", env.get("PEER_SPARK_MAX_OFFSETS", "250000"))
           .load())
    e = raw.select(F.from_json(F.col("value").cast("string"), schema).alias("e")).select("e.*")
    ts = F.when(F.col("event_ts").rlike("^[0-9]+$"), F.timestamp_millis(F.col("event_ts").cast("long"))) \
          .otherwise(F.to_timestamp("event_ts"))
    return (e.withColumn("ts", ts).withColumn("document_id", F.col("document_id").cast("long"))
            .where(F.col("ts").isNotNull() & F.col("document_id").isNotNull())
            .withWatermark("ts", "10 minutes"))


def execute(*statements):
    """Runs the statements in one transaction."""
    with psycopg.connect(env["PEER_DATABASE_URL"]) as conn:
        for sql in statements:
            conn.execute(sql)


def stage(df, table):
    # Truncate and append through Spark's JDBC writer; the upsert then runs in PostgreSQL.
    execute(f"TRUNCATE {table}")
    (df.write.format("jdbc").options(**jdbc).option("dbtable", table)
     .option("batchsize", "10000").mode("append").save())


def upsert_traffic(df, _batch_id):
    stage(df, "spark_stage_traffic")
    execute("""INSERT INTO spark_traffic_minute SELECT * FROM spark_stage_traffic
               ON CONFLICT (event_minute) DO UPDATE SET total_clicks = EXCLUDED.total_clicks,
                 unique_sessions = EXCLUDED.unique_sessions, unique_docs = EXCLUDED.unique_docs""")


def upsert_top_docs(df, _batch_id):
    stage(df, "spark_stage_doc_counts")
    # Upsert the changed (snapshot, document) aggregates, then re-rank the snapshots they touch.
    execute(
        """INSERT INTO spark_doc_counts_1h SELECT * FROM spark_stage_doc_counts
           ON CONFLICT (snapshot_ts, document_id) DO UPDATE SET title = EXCLUDED.title,
             click_count = EXCLUDED.click_count, unique_sessions = EXCLUDED.unique_sessions""",
        """DELETE FROM spark_top_docs_1h t
           WHERE t.snapshot_ts IN (SELECT DISTINCT snapshot_ts FROM spark_stage_doc_counts)""",
        """INSERT INTO spark_top_docs_1h
           SELECT snapshot_ts, rank, document_id, title, click_count, unique_sessions FROM (
             SELECT c.*, row_number() OVER (PARTITION BY c.snapshot_ts
                      ORDER BY c.click_count DESC, c.unique_sessions DESC, c.document_id) AS rank
             FROM spark_doc_counts_1h c
             WHERE c.snapshot_ts IN (SELECT DISTINCT snapshot_ts FROM spark_stage_doc_counts)) r
           WHERE rank <= 20""")


traffic = (events().groupBy(F.window("ts", "1 minute"))
           .agg(F.count("*").alias("total_clicks"),
                F.approx_count_distinct("session_id").alias("unique_sessions"),
                F.approx_count_distinct("document_id").alias("unique_docs"))
           .select(F.col("window.start").alias("event_minute"), "total_clicks", "unique_sessions", "unique_docs"))
# Latest non-null title in the window (ties: greatest event_id): max_by over (ts, event_id).
order = F.when(F.col("title").isNotNull(), F.struct("ts", "event_id"))
top = (events().groupBy(F.window("ts", "1 hour", "1 minute"), "document_id")
       .agg(F.max_by("title", order).alias("title"),
            F.count("*").alias("click_count"),
            F.approx_count_distinct("session_id").alias("unique_sessions"))
       .select(F.col("window.end").alias("snapshot_ts"), "document_id", "title", "click_count", "unique_sessions"))

checkpoints = env["PEER_CHECKPOINTS"]
queries = [
    traffic.writeStream.outputMode("update").foreachBatch(upsert_traffic)
    .option("checkpointLocation", f"{checkpoints}/traffic").trigger(availableNow=True).start(),
    top.writeStream.outputMode("update").foreachBatch(upsert_top_docs)
    .option("checkpointLocation", f"{checkpoints}/top").trigger(availableNow=True).start(),
]
for q in queries:
    q.awaitTermination()
spark.stop()
