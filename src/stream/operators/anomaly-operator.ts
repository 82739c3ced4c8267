// mart_anomaly_sessions: episodes of one session are computed where the session lives — its
// partition (the Kafka key is the session id) — so this mart needs no combiner. The operator
// owns the partition's episode state (AnomalyDetector), the sessions a batch touched, and the
// once-a-minute sweep that folds sessions the bound has passed and forgets finished ones.
import type { AnomalyRow, ClickEvent } from '../../marts/types.ts';
import { MINUTE_MS, floorTo } from '../../marts/window-math.ts';
import { AnomalyDetector } from '../anomaly-detector.ts';
import type { AnomalyAlert, AnomalyThresholds, SessionAnomalySnapshot } from '../anomaly-detector.ts';
import type { PartitionMartOperator } from './hot-operator.ts';

export interface AnomalyChanges {
  readonly upserts: { readonly row: AnomalyRow; readonly final: boolean }[];
  readonly deletes: { readonly sessionId: string; readonly detectedTs: number }[];
  readonly alerts: AnomalyAlert[];
}

export type AnomalySnapshot = Record<string, SessionAnomalySnapshot>;

export class AnomalyOperator implements PartitionMartOperator<AnomalySnapshot, AnomalyChanges> {
  private readonly detector: AnomalyDetector;
  /** Sessions with events since the last advance. */
  private dirty = new Set<string>();
  /** The bound's minute at the last sweep. */
  private sweptAt = Number.NaN;

  constructor(thresholds: AnomalyThresholds) {
    this.detector = new AnomalyDetector(thresholds);
  }

  addEvent(event: ClickEvent, bound: number): void {
    this.detector.add(event.sessionId, event.eventTs, bound);
    this.dirty.add(event.sessionId);
  }

  advance(bound: number, into: AnomalyChanges): void {
    const sweepAt = Number.isFinite(bound) ? floorTo(bound, MINUTE_MS) : bound;
    const sweep = sweepAt !== this.sweptAt;
    // Once per bound minute: every session the bound passed is folded, even without new events.
    if (sweep) for (const sessionId of this.detector.sessionsBehind(bound)) this.dirty.add(sessionId);
    this.dirty.forEach((sessionId) => {
      const changes = this.detector.evaluate(sessionId, bound, into.alerts);
      for (const upsert of changes.upserts) into.upserts.push(upsert);
      for (const detectedTs of changes.deletes) into.deletes.push({ sessionId, detectedTs });
    });
    this.dirty = new Set();
    if (sweep) {
      this.detector.collect(bound);
      this.sweptAt = sweepAt;
    }
  }

  snapshot(): AnomalySnapshot {
    const out: AnomalySnapshot = {};
    for (const sessionId of this.detector.sessionIds()) {
      const snapshot = this.detector.snapshot(sessionId);
      if (snapshot !== null) out[sessionId] = snapshot;
    }
    return out;
  }

  restore(snapshot: AnomalySnapshot): void {
    for (const [sessionId, session] of Object.entries(snapshot)) this.detector.restore(sessionId, session);
  }

  restoreEvent(event: ClickEvent, bound: number): void {
    // An event of the log may lie before the frozen boundary: it is context for counting only.
    this.detector.add(event.sessionId, event.eventTs, bound);
  }
}
