// Applies the stream processor's batch outputs to in-memory tables with the same semantics as
// the PostgreSQL sink (partials upserted per partition, mart rows = their combination), so the
// processor's logic can be checked against the reference evaluator without a database.
import type { AnomalyRow, HotMartRows } from '../../src/marts/types.ts';
import type { BatchOutput, TopDocPartial, TrafficPartial, TrendPartial } from '../../src/stream/checkpoint-types.ts';
import { combineTopDocs, combineTraffic, combineTrend } from '../../src/stream/combine-partials.ts';

function upsert<P>(table: Map<number, Map<string, P>>, ts: number, key: string, partial: P): void {
  let rows = table.get(ts);
  if (rows === undefined) table.set(ts, (rows = new Map()));
  rows.set(key, partial);
}

export class InMemoryMarts {
  readonly traffic = new Map<number, Map<string, TrafficPartial>>();
  readonly topDocs = new Map<number, Map<string, TopDocPartial>>();
  readonly clinical = new Map<number, Map<string, TrendPartial>>();
  readonly anomalies = new Map<string, AnomalyRow>();
  readonly lateEventIds: string[] = [];
  readonly deadLetterOffsets: { offset: string; reason: string }[] = [];
  duplicates = 0;

  apply(batch: BatchOutput): void {
    for (const p of batch.trafficPartials) upsert(this.traffic, p.eventMinute, `${p.source}#${p.partition}`, p);
    for (const p of batch.topPartials) upsert(this.topDocs, p.snapshotTs, `${p.source}#${p.partition}#${p.documentId}`, p);
    for (const p of batch.trendPartials) upsert(this.clinical, p.snapshotTs, `${p.source}#${p.partition}#${p.clinicalArea}`, p);
    for (const d of batch.anomalyDeletes) this.anomalies.delete(`${d.detectedTs}|${d.sessionId}`);
    for (const { row } of batch.anomalyUpserts) this.anomalies.set(`${row.detectedTs}|${row.sessionId}`, row);
    for (const l of batch.lateEvents) this.lateEventIds.push(l.event.eventId);
    for (const d of batch.deadLetters) this.deadLetterOffsets.push({ offset: d.message.offset, reason: d.reason });
    this.duplicates += batch.duplicates;
  }

  rows(): HotMartRows {
    const sortedKeys = <P>(m: Map<number, Map<string, P>>): [number, P[]][] =>
      [...m.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, [...v.values()]]);
    return {
      traffic: sortedKeys(this.traffic).map(([minute, partials]) => combineTraffic(minute, partials)),
      topDocs: sortedKeys(this.topDocs).flatMap(([ts, partials]) => combineTopDocs(ts, partials)),
      clinicalTrend: sortedKeys(this.clinical).flatMap(([ts, partials]) => combineTrend(ts, partials)),
      anomalies: [...this.anomalies.values()].sort((a, b) => a.detectedTs - b.detectedTs || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0)),
    };
  }
}
