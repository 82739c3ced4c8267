// The acceptance event set itself: its classification holds (planned = simulated = parsed by the
// product's event contract), it contains every case it promises, and the reference evaluator
// finds the anomalies, ties and trends it was built to contain.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  NOT_COVERED_REASONS,
  SUITE_END_MS,
  SUITE_MARKERS,
  SUITE_START_MS,
  buildMartSuite,
  simulateArrivals,
} from '../fixtures/mart-suite.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { DEAD_LETTER_REASONS } from '../../src/marts/types.ts';
import type { ClickEvent, ColdMartRows, HotMartRows } from '../../src/marts/types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A processor clock after the suite and long before 2099. */
const NOW = Date.UTC(2026, 10, 24);

let suite: MartSuite;
let hot: HotMartRows;
let cold: ColdMartRows;

beforeAll(() => {
  suite = buildMartSuite();
  hot = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings);
  cold = evaluateColdMarts(suite.expected.allValidEvents, suite.settings);
});

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

describe('the suite as built', () => {
  it('has the promised shape and volume', () => {
    expect(suite.settings.timeZone).toBe('America/New_York');
    expect(suite.watermarkDelayMs).toBe(10 * MINUTE);
    expect(suite.maxFutureSkewMs).toBe(5 * MINUTE);
    expect(suite.lines.length).toBeGreaterThan(20_000);
    expect(suite.lines.length).toBeLessThan(40_000);
    expect(suite.keys).toHaveLength(suite.lines.length);
    expect(suite.annotations).toHaveLength(suite.lines.length);
    const sessions = new Set(suite.expected.allValidEvents.map((e) => e.sessionId));
    expect(sessions.size).toBeGreaterThan(300);
  });

  it('is deterministic', () => {
    const again = buildMartSuite();
    expect(again.lines).toEqual(suite.lines);
    expect(again.expected).toEqual(suite.expected);
  });

  it('has the exact number of lines of each category', () => {
    const { expected } = suite;
    expect(suite.lines).toHaveLength(25_790);
    expect(expected.onTimeEvents).toHaveLength(25_431);
    expect(expected.duplicateLines).toHaveLength(245);
    expect(expected.lateLines).toHaveLength(62);
    expect(expected.deadLetters).toHaveLength(52);
    expect(expected.allValidEvents).toHaveLength(25_471);
    expect(countBy(expected.deadLetters, (d) => d.reason)).toEqual({
      too_large: 2,
      invalid_json: 5,
      not_an_object: 5,
      missing_field: 6,
      wrong_type: 9,
      invalid_value: 14,
      unsafe_number: 3,
      invalid_timestamp: 7,
      future_timestamp: 1,
    });
    expect(countBy(suite.annotations, (a) => `${a.fate}: ${a.label}`)).toMatchObject({
      'on_time: burst-49': 49,
      'on_time: burst-50': 50,
      'on_time: burst-100': 100,
      'on_time: span-edge': 51,
      'on_time: two-episodes': 192,
      'on_time: tie-cluster': 192,
      'on_time: day-one-area': 40,
      'duplicate: duplicate: resent soon': 240,
      'duplicate: duplicate: burst-49 click': 3,
      'late: late: new event hours old': 40,
      'late: late: copy of an applied event resent hours later': 20,
      'late: late: resend of a late event': 1,
      'late: late: copy of a burst-49 click': 1,
    });
  });

  it('covers every dead-letter reason but invalid_encoding', () => {
    const covered = new Set(suite.expected.deadLetters.map((d) => d.reason));
    expect(DEAD_LETTER_REASONS.filter((r) => !covered.has(r))).toEqual([...NOT_COVERED_REASONS]);
  });

  it('the expected lists partition the lines and agree with the annotations', () => {
    const { expected, annotations } = suite;
    const fromExpected: string[] = annotations.map(() => 'on_time');
    for (const i of expected.lateLines) fromExpected[i] = 'late';
    for (const i of expected.duplicateLines) fromExpected[i] = 'duplicate';
    for (const d of expected.deadLetters) fromExpected[d.line] = `dead_letter/${d.reason}`;
    expect(fromExpected).toEqual(annotations.map((a) => (a.fate === 'dead_letter' ? `dead_letter/${a.reason}` : a.fate)));
    const listed = expected.lateLines.length + expected.duplicateLines.length + expected.deadLetters.length;
    expect(listed + expected.onTimeEvents.length).toBe(suite.lines.length);
    expect(new Set(expected.onTimeEvents.map((e) => e.eventId)).size).toBe(expected.onTimeEvents.length);
    expect(new Set(expected.allValidEvents.map((e) => e.eventId)).size).toBe(expected.allValidEvents.length);
  });
});

describe('classification', () => {
  it('the watermark simulation reproduces every planned fate', () => {
    const simulated = simulateArrivals(suite.lines, new Set(suite.expected.deadLetters.map((d) => d.line)), suite.watermarkDelayMs);
    expect(simulated.fates).toEqual(suite.annotations.map((a) => a.fate));
  });

  it('on-time lines are ≥ 3 min above the watermark, late lines ≥ 1 h below it', () => {
    const { fates, marginsMs } = simulateArrivals(
      suite.lines,
      new Set(suite.expected.deadLetters.map((d) => d.line)),
      suite.watermarkDelayMs,
    );
    const onTimeMargins = marginsMs.filter((m, i) => fates[i] === 'on_time' || fates[i] === 'duplicate');
    const lateMargins = marginsMs.filter((_, i) => fates[i] === 'late');
    expect(Math.min(...onTimeMargins)).toBeGreaterThanOrEqual(3 * MINUTE);
    expect(Math.max(...lateMargins)).toBeLessThanOrEqual(-HOUR);
  });

  it("the product's event contract parses every line as planned", () => {
    const byId = new Map(suite.expected.allValidEvents.map((e) => [e.eventId, e]));
    const problems: string[] = [];
    suite.lines.forEach((line, i) => {
      const outcome = parseRawMessage(line, { nowMs: NOW, maxFutureSkewMs: suite.maxFutureSkewMs });
      const planned = suite.annotations[i];
      if (planned === undefined) throw new Error('annotation missing');
      if (planned.fate === 'dead_letter') {
        if (outcome.ok || outcome.reason !== planned.reason) {
          problems.push(`${i} ${planned.label}: ${outcome.ok ? 'parsed' : outcome.reason}`);
        }
      } else if (!outcome.ok) {
        problems.push(`${i} ${planned.label}: ${outcome.reason} ${outcome.detail}`);
      } else if (JSON.stringify(outcome.event) !== JSON.stringify(byId.get(outcome.event.eventId))) {
        problems.push(`${i} ${planned.label}: parsed ${JSON.stringify(outcome.event).slice(0, 200)}`);
      }
    });
    expect(problems).toEqual([]);
  });

  it('duplicates and late copies are byte-identical to a line seen before', () => {
    const seen = new Set<string>();
    const copies = new Set([...suite.expected.duplicateLines, ...suite.expected.lateLines]);
    let identical = 0;
    suite.lines.forEach((line, i) => {
      if (copies.has(i) && seen.has(line)) identical++;
      seen.add(line);
    });
    // Every duplicate, plus the 20 + 1 late copies of applied events and the resent late event.
    expect(identical).toBe(suite.expected.duplicateLines.length + 22);
  });

  it('keys are the session_id of every valid line', () => {
    const { annotations, keys, lines } = suite;
    const wrong = annotations.flatMap((a, i) =>
      a.fate !== 'dead_letter' && keys[i] !== (JSON.parse(lines[i] as string) as { session_id: string }).session_id ? [i] : [],
    );
    expect(wrong).toEqual([]);
  });

  it('the far-future line arrives mid-stream: a watermark it advanced would make the rest late', () => {
    const future = suite.expected.deadLetters.find((d) => d.reason === 'future_timestamp')?.line as number;
    const onTimeAfter = suite.annotations.slice(future + 1).filter((a) => a.fate === 'on_time').length;
    expect(onTimeAfter).toBeGreaterThan(10_000);
  });

  it('every valid event lies in the suite window (the only future event is a dead letter)', () => {
    const outside = suite.expected.allValidEvents.filter((e) => e.eventTs < SUITE_START_MS || e.eventTs >= SUITE_END_MS);
    expect(outside).toEqual([]);
  });
});

describe('contents', () => {
  it('message sizes straddle 64 KiB exactly', () => {
    const bytes = suite.lines.map((l) => Buffer.byteLength(l, 'utf8'));
    const tooLarge = new Set(suite.expected.deadLetters.filter((d) => d.reason === 'too_large').map((d) => d.line));
    expect(bytes.flatMap((n, i) => (n > MAX_MESSAGE_BYTES ? [i] : []))).toEqual([...tooLarge].sort((a, b) => a - b));
    expect(bytes.filter((n) => n === MAX_MESSAGE_BYTES)).toHaveLength(1);
    expect(bytes.filter((n) => n === MAX_MESSAGE_BYTES + 1)).toHaveLength(1);
  });

  it('document ids beyond 2^53 and zero-padded ones', () => {
    const ids = new Set(suite.expected.onTimeEvents.map((e) => e.documentId));
    for (const id of ['9223372036854775807', '18014398509481985', '18014398509481984', '9007199254740991', '42', '0']) {
      expect(ids.has(id), id).toBe(true);
    }
    const raw = suite.lines.join('\n');
    expect(raw).toContain('"document_id":"0042"');
    expect(raw).toContain('"document_id":42,');
    expect(raw).toContain('"document_id":"000"');
    expect(raw).toContain('"document_id":"9223372036854775807"');
  });

  it('null and empty titles and clinical areas, and the DST day', () => {
    const lines = suite.lines.join('\n');
    expect(lines).toContain('"title":null');
    expect(lines).toContain('"clinical_area":null');
    expect(lines).toContain('"clinical_area":""');
    expect(cold.dailyTraffic.map((r) => r.eventDate)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09']);
    expect(cold.clinicalAreas.filter((r) => r.clinicalArea === 'unknown')).toHaveLength(3);
  });

  it('arrival order is event time with bounded jitter: many inversions, none beyond 4 minutes', () => {
    let inversions = 0;
    let maxTs = Number.NEGATIVE_INFINITY;
    const late = new Set(suite.expected.lateLines);
    const dead = new Set(suite.expected.deadLetters.map((d) => d.line));
    const byId = new Map(suite.expected.allValidEvents.map((e) => [e.eventId, e]));
    let worst = 0;
    suite.lines.forEach((line, i) => {
      if (late.has(i) || dead.has(i)) return;
      const event = byId.get((JSON.parse(line) as { event_id: string }).event_id) as ClickEvent;
      if (event.eventTs < maxTs) {
        inversions++;
        worst = Math.max(worst, maxTs - event.eventTs);
      }
      maxTs = Math.max(maxTs, event.eventTs);
    });
    expect(inversions).toBeGreaterThan(1000);
    expect(worst).toBeLessThanOrEqual(4 * MINUTE);
  });
});

describe('what the reference evaluator finds in it', () => {
  it('anomalies: 50 → WARNING, 100 → CRITICAL, 49 → nothing; the span edge; two episodes', () => {
    const bySession = (id: string): unknown[] => hot.anomalies.filter((r) => r.sessionId === id);
    expect(bySession(SUITE_MARKERS.burst49Session)).toEqual([]);
    expect(bySession(SUITE_MARKERS.burst50Session)).toMatchObject([{ clickCount: 50, severity: 'WARNING' }]);
    expect(bySession(SUITE_MARKERS.burst100Session)).toMatchObject([{ clickCount: 100, severity: 'CRITICAL' }]);
    const t0 = Date.UTC(2026, 2, 8, 20, 15);
    expect(bySession(SUITE_MARKERS.spanEdgeSession)).toEqual([
      {
        detectedTs: t0 + 5 * MINUTE + 1000, // F, not E: the click at t0 is outside (E − 5 min, E]
        sessionId: SUITE_MARKERS.spanEdgeSession,
        windowStart: t0 + 1000,
        windowEnd: t0 + 5 * MINUTE + 1000,
        clickCount: 50,
        severity: 'WARNING',
      },
    ]);
    expect(bySession(SUITE_MARKERS.twoEpisodesSession)).toMatchObject([
      { clickCount: 60, severity: 'WARNING' },
      { clickCount: 120, severity: 'CRITICAL' },
    ]);
    // Nothing else: background sessions click at least 10 s apart.
    expect(hot.anomalies).toHaveLength(5);
  });

  it('the burst-100 episode starts at its 50th click and ends at its 100th', () => {
    const session = SUITE_MARKERS.burst100Session;
    const clicks = suite.expected.onTimeEvents
      .filter((e) => e.sessionId === session)
      .map((e) => e.eventTs)
      .sort((a, b) => a - b);
    const row = hot.anomalies.find((r) => r.sessionId === session);
    expect(row).toMatchObject({ detectedTs: clicks[49], windowEnd: clicks[99] });
  });

  it('top docs: the tied documents rank consecutively in numeric id order, then 901 with its tie-broken title', () => {
    const snapshot = hot.topDocs.filter((r) => r.snapshotTs === SUITE_MARKERS.tieSnapshotTs);
    const order = [...SUITE_MARKERS.tiedDocuments, SUITE_MARKERS.fewerSessionsDocument];
    const rows = order.map((id) => snapshot.find((r) => r.documentId === id));
    const first = rows[0]?.rank as number;
    expect(rows.map((r) => [r?.rank, r?.clickCount, r?.uniqueSessions])).toEqual([
      [first, 48, 12],
      [first + 1, 48, 12],
      [first + 2, 48, 12],
      [first + 3, 48, 6],
    ]);
    expect(rows[3]?.title).toBe(SUITE_MARKERS.fewerSessionsTitle);
  });

  it('top docs: in every snapshot the tied documents have equal counts and rank in numeric id order', () => {
    const tied = new Set<string>(SUITE_MARKERS.tiedDocuments);
    const bySnapshot = new Map<number, { documentId: string; rank: number; clickCount: number; uniqueSessions: number }[]>();
    for (const row of hot.topDocs) {
      if (!tied.has(row.documentId)) continue;
      const list = bySnapshot.get(row.snapshotTs) ?? [];
      list.push(row);
      bySnapshot.set(row.snapshotTs, list);
    }
    expect(bySnapshot.size).toBeGreaterThan(60);
    for (const list of bySnapshot.values()) {
      if (list.length < 3) continue; // cut off at rank 20
      expect(list.map((r) => r.documentId)).toEqual([...SUITE_MARKERS.tiedDocuments]);
      expect(new Set(list.map((r) => `${r.clickCount}/${r.uniqueSessions}`)).size).toBe(1);
      // Not necessarily adjacent: a background document with the same counts and an id between
      // 900 and 18014398509481985 rightly ranks between them.
      expect([...list].sort((a, b) => a.rank - b.rank)).toEqual(list);
    }
  });

  it('clinical trend: the day-one-only area falls to −100.00', () => {
    const rows = hot.clinicalTrend.filter((r) => r.clinicalArea === SUITE_MARKERS.dayOneOnlyArea);
    const gone = rows.filter((r) => r.trendPct === '-100.00');
    expect(gone.length).toBeGreaterThan(100);
    for (const row of gone) expect(row).toMatchObject({ clickCount: 0, uniqueSessions: 0 });
    expect(cold.clinicalAreas.filter((r) => r.clinicalArea === SUITE_MARKERS.dayOneOnlyArea).map((r) => r.eventDate)).toEqual([
      '2026-03-07',
    ]);
  });

  it('cold marts see late events that hot marts do not', () => {
    const hotTotal = hot.traffic.reduce((n, r) => n + r.totalClicks, 0);
    const coldTotal = cold.dailyTraffic.reduce((n, r) => n + r.totalEvents, 0);
    expect(hotTotal).toBe(suite.expected.onTimeEvents.length);
    expect(coldTotal).toBe(suite.expected.allValidEvents.length);
    expect(coldTotal - hotTotal).toBe(40);
  });

  it('scales the background volume', () => {
    const half = buildMartSuite({ scale: 0.5 });
    expect(half.lines.length).toBeLessThan(suite.lines.length * 0.6);
    expect(half.lines.length).toBeGreaterThan(suite.lines.length * 0.4);
    expect(evaluateHotMarts(half.expected.onTimeEvents, half.settings).anomalies).toHaveLength(5);
  });
});
