// The benchmarks' synthetic click stream, shared so that every bench (and every engine of
// bench:peers) reads exactly the same events.

export interface BenchEvent {
  readonly key: string;
  readonly value: string;
  readonly ts: number;
}

/**
 * TripClick-like traffic: sessions of a few clicks, Zipf-popular documents, 12 areas (one null).
 * Event time runs from startMs over spanMs with up to 1 min of disorder, far inside the 10 min
 * watermark, so no event is late for any engine.
 */
export function* generateBenchEvents(count: number, startMs: number, spanMs: number, seed = 7): Generator<BenchEvent> {
  let s = seed;
  const random = (): number => ((s = (s * 48271) % 2147483647) / 2147483647);
  const areas = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'dermatology', 'psychiatry', 'infectious', 'endocrinology', 'nephrology', 'urology', 'rheumatology', null];
  for (let i = 0; i < count; i++) {
    const ts = startMs + Math.floor((i / count) * spanMs) - Math.floor(random() * 60_000);
    const session = `s${Math.floor(random() * Math.max(100, count / 20))}`;
    const doc = Math.floor(Math.pow(random(), 3) * 20_000);
    const value = JSON.stringify({
      event_id: `e${seed}-${i}`,
      event_ts: ts,
      session_id: session,
      document_id: String(doc),
      title: `Document ${doc}`,
      clinical_area: areas[doc % areas.length],
    });
    yield { key: session, value, ts };
  }
}
