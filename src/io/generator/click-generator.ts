// The built-in generator of TripClick-like click events: sessions of a few clicks on
// Zipf-popular documents with titles and clinical areas, and now and then an anomalous session
// that clicks far too fast. Deterministic for a seed, so demos and tests repeat.

const AREAS = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'dermatology', 'psychiatry', 'infectious diseases', 'endocrinology', 'nephrology', 'rheumatology', 'urology'];
const TOPICS = ['management', 'diagnosis', 'guideline', 'drug dosing', 'patient leaflet', 'systematic review', 'care pathway', 'quick reference'];
const CONDITIONS = ['Atrial fibrillation', 'Type 2 diabetes', 'Asthma', 'Migraine', 'Psoriasis', 'Sepsis', 'Heart failure', 'Depression', 'Chronic kidney disease', 'Gout', 'Stroke', 'Pneumonia'];

export interface GeneratedClick {
  readonly key: string;
  /** The raw message: one JSON object per the curated-event contract. */
  readonly value: string;
  readonly eventTs: number;
}

export interface GeneratorOptions {
  readonly startMs: number;
  /** Average events per second of event time. */
  readonly eventsPerSecond: number;
  readonly seed?: number;
  /** One anomalous session (≥ 100 clicks within 5 minutes) every this many events; 0 = never. */
  readonly anomalyEvery?: number;
}

export function* generateClicks(options: GeneratorOptions): Generator<GeneratedClick> {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const gapMs = 1000 / options.eventsPerSecond;
  const anomalyEvery = options.anomalyEvery ?? 5000;
  let clock = options.startMs;
  let sessionSeq = 0;
  let eventSeq = 0;
  const open: { id: string; left: number }[] = [];
  for (;;) {
    clock += gapMs * 2 * random();
    if (anomalyEvery > 0 && eventSeq > 0 && eventSeq % anomalyEvery === 0) {
      const id = `bot-${++sessionSeq}`;
      for (let k = 0; k < 120; k++) yield click(id, Math.round(clock + k * 1500));
    }
    if (open.length < 50 || random() < 0.1) open.push({ id: `s-${++sessionSeq}`, left: 1 + Math.floor(random() * 8) });
    const index = Math.floor(random() * open.length);
    const session = open[index]!;
    yield click(session.id, Math.round(clock));
    if (--session.left === 0) open.splice(index, 1);
  }

  function click(sessionId: string, ts: number): GeneratedClick {
    const doc = Math.floor(Math.pow(random(), 2.5) * 5000) + 1;
    const value = JSON.stringify({
      event_id: `gen-${options.seed ?? 1}-${++eventSeq}`,
      event_ts: new Date(ts).toISOString(),
      session_id: sessionId,
      document_id: String(doc),
      title: `${CONDITIONS[doc % CONDITIONS.length]}: ${TOPICS[doc % TOPICS.length]}`,
      clinical_area: doc % 17 === 0 ? null : AREAS[doc % AREAS.length],
    });
    return { key: sessionId, value, eventTs: ts };
  }
}
