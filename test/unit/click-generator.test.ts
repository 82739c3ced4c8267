// The built-in generator: deterministic, anomalous sessions on an event-time clock, the trickle of
// late, duplicate and malformed messages at the configured rates, and a daily load curve.
import { describe, expect, it } from 'vitest';
import { generateClicks, loadFactor } from '../../src/io/generator/click-generator.ts';
import type { GeneratedClick, GeneratorOptions } from '../../src/io/generator/click-generator.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';

const START = Date.parse('2026-01-10T00:00:00Z');

function take(options: GeneratorOptions, count: number): GeneratedClick[] {
  const out: GeneratedClick[] = [];
  for (const c of generateClicks(options)) {
    out.push(c);
    if (out.length >= count) break;
  }
  return out;
}

const parse = (value: string) => parseRawMessage(value, { nowMs: Number.MAX_SAFE_INTEGER, maxFutureSkewMs: 0 });

describe('generateClicks', () => {
  it('repeats itself for a seed and differs for another', () => {
    const a = take({ startMs: START, eventsPerSecond: 50, seed: 5 }, 500);
    expect(take({ startMs: START, eventsPerSecond: 50, seed: 5 }, 500)).toEqual(a);
    expect(take({ startMs: START, eventsPerSecond: 50, seed: 6 }, 500)).not.toEqual(a);
  });

  it('starts an anomalous session every anomalyEveryMs: 120 clicks, 2 s apart, interleaved in event-time order', () => {
    const clicks = take({ startMs: START, eventsPerSecond: 20, seed: 1, anomalyEveryMs: 60_000 }, 20 * 60 * 10);
    const bots = new Map<string, number[]>();
    for (const c of clicks) if (c.key.startsWith('bot-')) bots.set(c.key, [...(bots.get(c.key) ?? []), c.eventTs]);
    const complete = [...bots.values()].filter((ts) => ts.length === 120);
    expect(complete.length).toBeGreaterThanOrEqual(2);
    for (const ts of complete) expect(ts.slice(1).map((t, i) => t - ts[i]!)).toEqual(Array(119).fill(2000));
    const firsts = [...bots.values()].map((ts) => ts[0]!);
    expect(firsts[1]! - firsts[0]!).toBeGreaterThanOrEqual(60_000);
    expect(firsts[1]! - firsts[0]!).toBeLessThan(61_000);
    // Regular and bot clicks come out in event-time order.
    const emits = clicks.map((c) => c.emitAt);
    expect(emits.every((t, i) => i === 0 || t >= emits[i - 1]!)).toBe(true);
  });

  it('adds late, duplicate and malformed messages at the configured rates', () => {
    // 10 000 regular clicks plus 200 duplicates, 100 late and 50 malformed messages; the last
    // regular click (the 10 000th) comes after its own extras.
    const clicks = take({ startMs: START, eventsPerSecond: 50, seed: 2, anomalyEvery: 0, lateEvery: 100, duplicateEvery: 50, malformedEvery: 200 }, 10_350);
    const malformed = clicks.filter((c) => !parse(c.value).ok);
    expect(malformed.length).toBe(50);
    const late = clicks.filter((c) => c.emitAt - c.eventTs >= 20 * 60_000);
    expect(late.length).toBe(100);
    expect(late.every((c) => c.key.startsWith('late-'))).toBe(true);
    const ids = clicks.map((c) => parse(c.value)).flatMap((p) => (p.ok ? [p.event.eventId] : []));
    expect(ids.length - new Set(ids).size).toBe(200);
  });

  it('writes valid curated events with titles, Zipf-popular documents and clinical areas', () => {
    const clicks = take({ startMs: START, eventsPerSecond: 50, seed: 3, anomalyEvery: 0 }, 5000);
    const events = clicks.map((c) => parse(c.value)).flatMap((p) => (p.ok ? [p.event] : []));
    expect(events.length).toBe(5000);
    const perDoc = new Map<string, number>();
    for (const e of events) perDoc.set(e.documentId, (perDoc.get(e.documentId) ?? 0) + 1);
    const counts = [...perDoc.values()].sort((a, b) => b - a);
    // Zipf with exponent 1.1 over 5000 documents: the most popular takes about a tenth.
    expect(counts[0]! / 5000).toBeGreaterThan(0.05);
    expect(counts[0]!).toBeGreaterThan(counts[9]! * 5);
    expect(events.every((e) => e.title !== null && e.title.length > 0)).toBe(true);
    expect(new Set(events.map((e) => e.clinicalArea)).size).toBeGreaterThan(5);
  });
});

describe('quiet span', () => {
  it('leaves [from, to) without events and carries on after it', () => {
    const quiet = { fromMs: START + 60_000, toMs: START + 3_600_000 };
    const clicks = take({ startMs: START, eventsPerSecond: 20, seed: 4, anomalyEveryMs: 30_000, quiet }, 4000);
    // Only what was already due before the first regular click past fromMs (well under a second).
    expect(clicks.filter((c) => c.eventTs >= quiet.fromMs + 1000 && c.eventTs < quiet.toMs)).toEqual([]);
    expect(clicks.filter((c) => c.eventTs < quiet.fromMs).length).toBeGreaterThan(1000);
    expect(clicks.filter((c) => c.eventTs >= quiet.toMs).length).toBeGreaterThan(1000);
  });
});

describe('loadFactor', () => {
  it('peaks in the afternoon, dips at night and averages 1 over a day', () => {
    expect(loadFactor(Date.parse('2026-01-10T14:00:00Z'))).toBeCloseTo(1.6, 10);
    expect(loadFactor(Date.parse('2026-01-10T02:00:00Z'))).toBeCloseTo(0.4, 10);
    let sum = 0;
    for (let m = 0; m < 1440; m++) sum += loadFactor(START + m * 60_000);
    expect(sum / 1440).toBeCloseTo(1, 6);
  });
});
