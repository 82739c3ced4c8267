// The built-in generator of TripClick-like click events: sessions of a few clicks on
// Zipf-popular documents with titles and clinical areas, a daily load curve, now and then an
// anomalous session that clicks far too fast, and a trickle of late, duplicate and malformed
// messages. Deterministic for a seed, so demos and tests repeat.

const AREAS = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'dermatology', 'psychiatry', 'infectious diseases', 'endocrinology', 'nephrology', 'rheumatology', 'urology'];
const TOPICS = ['management', 'diagnosis', 'guideline', 'drug dosing', 'patient leaflet', 'systematic review', 'care pathway', 'quick reference'];
const CONDITIONS = ['Atrial fibrillation', 'Type 2 diabetes', 'Asthma', 'Migraine', 'Psoriasis', 'Sepsis', 'Heart failure', 'Depression', 'Chronic kidney disease', 'Gout', 'Stroke', 'Pneumonia'];

const DOCUMENTS = 5000;
const ZIPF_EXPONENT = 1.1;
/** An anomalous session: this many clicks, this far apart (120 clicks in 4 min: WARNING, then CRITICAL). */
const BOT_CLICKS = 120;
const BOT_GAP_MS = 2000;
/** Late messages carry an event time this far back: beyond the default 10 min watermark delay. */
const LATE_BY_MS = 20 * 60_000;

export interface GeneratedClick {
  readonly key: string;
  /** The raw message: one JSON object per the curated-event contract (or, rarely, malformed text). */
  readonly value: string;
  /** The event_ts written into value (for a malformed message: when it was emitted). */
  readonly eventTs: number;
  /** Wall-clock instant at which a live source hands the message over; ≥ eventTs except for late ones. */
  readonly emitAt: number;
}

export interface GeneratorOptions {
  readonly startMs: number;
  /** Average events per second of event time. */
  readonly eventsPerSecond: number;
  readonly seed?: number;
  /** One anomalous session every this many events (legacy, count-based); 0 = never. Default 5000 unless anomalyEveryMs is set. */
  readonly anomalyEvery?: number;
  /** One anomalous session every this much event time; takes precedence over anomalyEvery. */
  readonly anomalyEveryMs?: number;
  /** Vary the rate over the day (quiet nights, busy afternoons, UTC). Default false. */
  readonly loadCurve?: boolean;
  /** One late message every this many events (0 = never, the default). */
  readonly lateEvery?: number;
  /** One duplicate (the previous message again) every this many events (0 = never, the default). */
  readonly duplicateEvery?: number;
  /** One malformed message every this many events (0 = never, the default). */
  readonly malformedEvery?: number;
  /** Event time [from, to) without traffic: the demo's short prelude a day earlier, then history. */
  readonly quiet?: { readonly fromMs: number; readonly toMs: number };
}

/** Rate multiplier for an instant: about 0.4 at 02:00 UTC, 1.6 at 14:00, averaging 1 over a day. */
export function loadFactor(ms: number): number {
  const hour = (ms % 86_400_000) / 3_600_000;
  return 1 + 0.6 * Math.cos((2 * Math.PI * (hour - 14)) / 24);
}

/** Deterministic title and clinical area of a document. */
export function documentInfo(doc: number): { title: string; clinicalArea: string | null } {
  return {
    title: `${CONDITIONS[doc % CONDITIONS.length]}: ${TOPICS[doc % TOPICS.length]} #${doc}`,
    clinicalArea: doc % 17 === 0 ? null : (AREAS[doc % AREAS.length] as string),
  };
}

let zipfTable: Float64Array | undefined;

/** Cumulative Zipf weights over the documents, built once. */
function zipfCdf(): Float64Array {
  if (zipfTable !== undefined) return zipfTable;
  const cdf = new Float64Array(DOCUMENTS);
  let sum = 0;
  for (let i = 0; i < DOCUMENTS; i++) cdf[i] = sum += 1 / Math.pow(i + 1, ZIPF_EXPONENT);
  for (let i = 0; i < DOCUMENTS; i++) cdf[i]! /= sum;
  zipfTable = cdf;
  return cdf;
}

function zipfDocument(u: number): number {
  const cdf = zipfCdf();
  let lo = 0;
  let hi = DOCUMENTS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  // Spread popular ranks over the id space so that ids do not equal ranks.
  return ((lo * 7919) % 100_003) + 1;
}

interface Bot {
  readonly id: string;
  nextTs: number;
  left: number;
}

export function* generateClicks(options: GeneratorOptions): Generator<GeneratedClick> {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const seed = options.seed ?? 1;
  const gapMs = 1000 / options.eventsPerSecond;
  const anomalyEveryMs = options.anomalyEveryMs ?? 0;
  const anomalyEvery = anomalyEveryMs > 0 ? 0 : (options.anomalyEvery ?? 5000);
  const curve = options.loadCurve ?? false;
  let clock = options.startMs;
  let nextBotAt = anomalyEveryMs > 0 ? options.startMs + anomalyEveryMs : Number.POSITIVE_INFINITY;
  let sessionSeq = 0;
  let eventSeq = 0;
  let regularSeq = 0;
  let previous: GeneratedClick | undefined;
  const bots: Bot[] = [];
  const open: { id: string; left: number }[] = [];

  // Each kind of bad input counts regular clicks on its own, so that the rates stay exact when
  // two kinds fall on the same click.
  const every = (n: number | undefined): boolean => n !== undefined && n > 0 && regularSeq % n === 0;

  // The next regular click's time is drawn once and kept until it is used, so bot clicks placed
  // before it never come after it.
  let normalTs: number | undefined;
  for (;;) {
    normalTs ??= clock + (gapMs / (curve ? loadFactor(clock) : 1)) * 2 * random();
    // The earliest bot click goes first, so the stream stays (mostly) in event-time order.
    let bot: Bot | undefined;
    for (const b of bots) if (b.nextTs <= normalTs && (bot === undefined || b.nextTs < bot.nextTs)) bot = b;
    let out: GeneratedClick;
    if (bot !== undefined) {
      out = click(bot.id, bot.nextTs);
      bot.nextTs += BOT_GAP_MS;
      if (--bot.left === 0) bots.splice(bots.indexOf(bot), 1);
    } else {
      clock = normalTs;
      normalTs = undefined;
      if (options.quiet !== undefined && clock >= options.quiet.fromMs && clock < options.quiet.toMs) {
        // Skip the quiet span: anomalous sessions in progress end, new ones follow on their cadence.
        clock = options.quiet.toMs;
        bots.length = 0;
        if (anomalyEveryMs > 0) nextBotAt = Math.max(nextBotAt, clock + anomalyEveryMs);
      }
      if (clock >= nextBotAt) {
        bots.push({ id: `bot-${++sessionSeq}`, nextTs: Math.round(clock), left: BOT_CLICKS });
        nextBotAt += anomalyEveryMs;
      }
      if (anomalyEvery > 0 && eventSeq > 0 && eventSeq % anomalyEvery === 0) {
        bots.push({ id: `bot-${++sessionSeq}`, nextTs: Math.round(clock), left: BOT_CLICKS });
      }
      if (open.length < 50 || random() < 0.1) open.push({ id: `s-${++sessionSeq}`, left: 1 + Math.floor(random() * 8) });
      const index = Math.floor(random() * open.length);
      const session = open[index]!;
      out = click(session.id, Math.round(clock));
      if (--session.left === 0) open.splice(index, 1);
    }
    // The trickle of bad input replaces nothing: it comes in addition to the regular clicks.
    regularSeq++;
    if (every(options.duplicateEvery) && previous !== undefined) yield { ...previous, emitAt: out.emitAt };
    if (every(options.lateEvery)) yield { ...click(`late-${++sessionSeq}`, out.eventTs - LATE_BY_MS), emitAt: out.emitAt };
    if (every(options.malformedEvery)) {
      yield { key: 'malformed', value: `{"event_id": "gen-${seed}-broken-${regularSeq}", "event_ts": `, eventTs: out.eventTs, emitAt: out.emitAt };
    }
    previous = out;
    yield out;
  }

  function click(sessionId: string, ts: number): GeneratedClick {
    const doc = zipfDocument(random());
    const info = documentInfo(doc);
    const value = JSON.stringify({
      event_id: `gen-${seed}-${++eventSeq}`,
      event_ts: new Date(ts).toISOString(),
      session_id: sessionId,
      document_id: String(doc),
      title: info.title,
      clinical_area: info.clinicalArea,
    });
    return { key: sessionId, value, eventTs: ts, emitAt: ts };
  }
}
