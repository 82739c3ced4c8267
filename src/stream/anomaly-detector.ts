// Anomaly episodes per session, exact under out-of-order arrival within the watermark. Events
// older than the session's frozen boundary (≤ watermark) can no longer change, so their episode
// state is folded into a small prefix; everything after it is recomputed when the session gets
// new events. Counts use the half-open span (ts − span, ts].
import type { AnomalyRow, Severity } from '../marts/types.ts';

export interface AnomalyThresholds {
  readonly spanMs: number;
  readonly warning: number;
  readonly critical: number;
}

export interface Episode {
  readonly detectedTs: number;
  readonly lastTs: number;
  readonly maxCount: number;
}

interface AlertMark {
  detectedTs: number;
  lastTs: number;
  severity: Severity;
}

/** What survives a restart besides the events themselves (which come from the pending-event log). */
export interface SessionAnomalySnapshot {
  readonly frozenTs: number;
  readonly open: Episode | null;
  readonly provisional: readonly number[];
  readonly alerted: readonly AlertMark[];
}

export interface AnomalyAlert {
  readonly sessionId: string;
  readonly episode: Episode;
  readonly severity: Severity;
  /** True when an already-alerted episode crossed the critical threshold. */
  readonly escalation: boolean;
}

export interface SessionChanges {
  readonly upserts: { row: AnomalyRow; final: boolean }[];
  readonly deletes: number[];
}

/**
 * A session's event times since its frozen boundary (sorted; equal times in any order, since
 * counts only ask how many fall at or before an instant) and its episode bookkeeping. Most
 * sessions hold a few events and never an episode: the sets and lists stay unallocated until used.
 */
class SessionState {
  ts: number[] = [];
  frozenTs: number;
  /** Episode open at the frozen boundary (its last folded event counted ≥ warning). */
  open: Episode | null = null;
  /** detected_ts of episodes written as provisional rows (null: none). */
  provisional: Set<number> | null = null;
  /** Alerted episodes (null: none). */
  alerted: AlertMark[] | null = null;

  constructor(frozenTs: number) {
    this.frozenTs = frozenTs;
  }

  /** True when nothing but event times is held: the common, cheap case. */
  get quiet(): boolean {
    return this.open === null && (this.provisional === null || this.provisional.size === 0) && (this.alerted === null || this.alerted.length === 0);
  }

  insert(ts: number): void {
    const times = this.ts;
    // Events of a session mostly arrive in time order: append without a search.
    if (times.length === 0 || times[times.length - 1]! <= ts) {
      times.push(ts);
      return;
    }
    times.splice(this.upTo(ts), 0, ts);
  }

  /** Number of events with ts ≤ t. */
  upTo(t: number): number {
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  firstAtOrAfter(t: number): number {
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Forgets the events that counting past the frozen boundary no longer needs. */
  dropBefore(t: number): void {
    const keepFrom = this.firstAtOrAfter(t);
    if (keepFrom === 0) return;
    if (keepFrom === this.ts.length) this.ts.length = 0;
    else this.ts.splice(0, keepFrom);
  }
}

const NO_CHANGES: SessionChanges = Object.freeze({ upserts: [], deletes: [] });

export class AnomalyDetector {
  private readonly sessions = new Map<string, SessionState>();
  private readonly thresholds: AnomalyThresholds;

  constructor(thresholds: AnomalyThresholds) {
    this.thresholds = thresholds;
  }

  sessionIds(): IterableIterator<string> {
    return this.sessions.keys();
  }

  /** Adds an on-time event (ts ≥ the watermark, so ≥ the session's frozen boundary). */
  add(sessionId: string, ts: number, watermark: number): void {
    let state = this.sessions.get(sessionId);
    if (state === undefined) {
      state = new SessionState(watermark);
      this.sessions.set(sessionId, state);
    }
    state.insert(ts);
  }

  /** Restores a session's prefix (before its events are re-added from the pending log). */
  restore(sessionId: string, snapshot: SessionAnomalySnapshot): void {
    const state = new SessionState(snapshot.frozenTs);
    state.open = snapshot.open;
    if (snapshot.provisional.length > 0) state.provisional = new Set(snapshot.provisional);
    if (snapshot.alerted.length > 0) state.alerted = snapshot.alerted.map((a) => ({ ...a }));
    this.sessions.set(sessionId, state);
  }

  snapshot(sessionId: string): SessionAnomalySnapshot | null {
    const s = this.sessions.get(sessionId);
    if (s === undefined || s.quiet) return null;
    return { frozenTs: s.frozenTs, open: s.open, provisional: [...(s.provisional ?? [])], alerted: (s.alerted ?? []).map((a) => ({ ...a })) };
  }

  /**
   * Folds what the watermark has made final, recomputes the rest, and reports row changes and
   * alerts for the session.
   */
  evaluate(sessionId: string, watermark: number, alerts: AnomalyAlert[]): SessionChanges {
    const s = this.sessions.get(sessionId);
    if (s === undefined) return NO_CHANGES;
    const { spanMs, warning } = this.thresholds;
    // Most sessions never hold `warning` events: nothing can start, continue or end an episode, so
    // only the frozen boundary moves (the general path below would allocate for nothing).
    if (s.open === null && (s.provisional === null || s.provisional.size === 0) && s.ts.length < warning) {
      if (watermark > s.frozenTs) {
        s.frozenTs = watermark;
        if (Number.isFinite(watermark)) s.dropBefore(watermark - spanMs + 1);
      }
      return NO_CHANGES;
    }
    const upserts: { row: AnomalyRow; final: boolean }[] = [];
    const finalised = new Set<number>();

    // 1. Fold events that became final (ts < watermark) into the prefix.
    if (watermark > s.frozenTs) {
      const from = s.firstAtOrAfter(s.frozenTs);
      const to = s.firstAtOrAfter(watermark);
      for (let i = from; i < to; i++) {
        const t = s.ts[i]!;
        const count = s.upTo(t) - s.upTo(t - spanMs);
        if (count >= warning) {
          s.open = s.open === null ? { detectedTs: t, lastTs: t, maxCount: count } : { detectedTs: s.open.detectedTs, lastTs: t, maxCount: Math.max(s.open.maxCount, count) };
        } else if (s.open !== null) {
          upserts.push({ row: this.row(sessionId, s.open), final: true });
          finalised.add(s.open.detectedTs);
          s.provisional?.delete(s.open.detectedTs);
          s.open = null;
        }
      }
      s.frozenTs = watermark;
      // Keep only what counting the unfolded events still needs.
      if (Number.isFinite(watermark)) s.dropBefore(watermark - spanMs + 1);
    }

    // 2. Recompute episodes over the unfolded events.
    const current: Episode[] = [];
    let open = s.open;
    const start = Number.isFinite(s.frozenTs) ? s.firstAtOrAfter(s.frozenTs) : s.ts.length;
    for (let i = start; i < s.ts.length; i++) {
      const t = s.ts[i]!;
      const count = s.upTo(t) - s.upTo(t - spanMs);
      if (count >= warning) {
        open = open === null ? { detectedTs: t, lastTs: t, maxCount: count } : { detectedTs: open.detectedTs, lastTs: t, maxCount: Math.max(open.maxCount, count) };
      } else if (open !== null) {
        current.push(open);
        open = null;
      }
    }
    if (open !== null) current.push(open);
    // At +∞ everything is folded: the still-open prefix episode is final too.
    if (!Number.isFinite(s.frozenTs) && s.open !== null) {
      upserts.push({ row: this.row(sessionId, s.open), final: true });
      finalised.add(s.open.detectedTs);
      s.provisional?.delete(s.open.detectedTs);
      s.open = null;
    }

    const nowProvisional = new Set<number>();
    for (const episode of current) {
      nowProvisional.add(episode.detectedTs);
      upserts.push({ row: this.row(sessionId, episode), final: false });
    }
    const deletes: number[] = [];
    for (const key of s.provisional ?? []) if (!nowProvisional.has(key) && !finalised.has(key)) deletes.push(key);
    s.provisional = nowProvisional.size > 0 ? nowProvisional : null;

    for (const { row } of upserts) this.alertIfNew(sessionId, s, row, alerts);
    return { upserts, deletes };
  }

  /** Drops sessions with nothing left that can change; returns how many were dropped. */
  collect(watermark: number): number {
    let dropped = 0;
    const horizon = watermark - this.thresholds.spanMs;
    // forEach rather than for…of over entries: these sweeps visit every live session once a
    // minute of event time, and the entry arrays were garbage on the hot path.
    this.sessions.forEach((s, sessionId) => {
      const last = s.ts.length > 0 ? s.ts[s.ts.length - 1]! : Number.NEGATIVE_INFINITY;
      if (s.open === null && (s.provisional === null || s.provisional.size === 0) && last <= horizon) {
        if (s.alerted !== null) s.alerted = s.alerted.filter((a) => a.lastTs > horizon);
        if (s.alerted === null || s.alerted.length === 0) {
          this.sessions.delete(sessionId);
          dropped++;
        }
      }
    });
    return dropped;
  }

  /** Sessions that still hold unfolded events older than the watermark. */
  sessionsBehind(watermark: number): string[] {
    const out: string[] = [];
    const spanMs = this.thresholds.spanMs;
    this.sessions.forEach((s, sessionId) => {
      if (!(s.frozenTs < watermark)) return;
      if ((s.ts.length > 0 && s.ts[s.ts.length - 1]! >= s.frozenTs - spanMs) || s.open !== null) out.push(sessionId);
    });
    return out;
  }

  private row(sessionId: string, e: Episode): AnomalyRow {
    return {
      detectedTs: e.detectedTs,
      sessionId,
      windowStart: e.detectedTs - this.thresholds.spanMs,
      windowEnd: e.lastTs,
      clickCount: e.maxCount,
      severity: e.maxCount >= this.thresholds.critical ? 'CRITICAL' : 'WARNING',
    };
  }

  /**
   * One alert per (session, episode, severity). An episode whose start moved because an
   * out-of-order event arrived is still the same episode if it overlaps an alerted one.
   */
  private alertIfNew(sessionId: string, s: SessionState, row: AnomalyRow, alerts: AnomalyAlert[]): void {
    const episode: Episode = { detectedTs: row.detectedTs, lastTs: row.windowEnd, maxCount: row.clickCount };
    const mark = s.alerted?.find((a) => a.detectedTs <= episode.lastTs && episode.detectedTs <= a.lastTs);
    if (mark === undefined) {
      // Every episode starts as a WARNING; one that already reached the critical threshold within
      // this batch escalates at once, so the alerts do not depend on batch boundaries.
      (s.alerted ??= []).push({ detectedTs: episode.detectedTs, lastTs: episode.lastTs, severity: row.severity });
      alerts.push({ sessionId, episode, severity: 'WARNING', escalation: false });
      if (row.severity === 'CRITICAL') alerts.push({ sessionId, episode, severity: 'CRITICAL', escalation: true });
      return;
    }
    mark.detectedTs = Math.min(mark.detectedTs, episode.detectedTs);
    mark.lastTs = Math.max(mark.lastTs, episode.lastTs);
    if (mark.severity === 'WARNING' && row.severity === 'CRITICAL') {
      mark.severity = 'CRITICAL';
      alerts.push({ sessionId, episode, severity: 'CRITICAL', escalation: true });
    }
  }
}
