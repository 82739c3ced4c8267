// Parquet codec benchmark: encode and decode 1M generated curated events (≈200 bytes each as
// JSON) and compare the file with the same events as JSON Lines. Each phase runs in its own
// child process so that its peak RSS is its own, not the high-water mark of an earlier phase
// (the WebAssembly heap never shrinks).
//
//   node_modules/.bin/node bench/parquet-codec.ts [--events 1000000] [--row-group 100000]
import { spawnSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmMemory } from 'parquet-wasm';
import {
  DEFAULT_ROW_GROUP_SIZE,
  encodeEventsToParquet,
  encodeEventsToParquetStream,
  readParquetRowGroups,
  toClickEvents,
  toRecords,
} from '../src/io/lake/parquet-events.ts';
import { parseRawMessage } from '../src/marts/event-contract.ts';
import type { ClickEvent } from '../src/marts/types.ts';

interface PhaseResult {
  readonly phase: string;
  readonly seconds: number;
  readonly events: number;
  readonly peakRssMb: number;
  /** The WebAssembly heap at the end: it never shrinks, so this is its high-water mark. */
  readonly wasmMb: number;
  readonly extra?: Record<string, number>;
}

const AREAS = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'endocrinology', 'infectious-disease', 'unknown'];
const WORDS = ['acute', 'chronic', 'management', 'of', 'heart', 'failure', 'guideline', 'therapy', 'diagnosis', 'in', 'adults', 'children', 'review', 'kidney', 'disease', 'stroke'];

/** Deterministic events: ≈200 bytes of JSON each, titles tied to documents as in real data. */
function generateEvents(count: number): ClickEvent[] {
  let seed = 42;
  const random = (): number => {
    // mulberry32: fast, deterministic, good enough for test data.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const documents = 50_000;
  const titles = Array.from({ length: documents }, (_, d) => {
    const n = 4 + (d % 5);
    return Array.from({ length: n }, (_, k) => WORDS[(d * 7 + k * 3) % WORDS.length]).join(' ');
  });
  const start = Date.UTC(2025, 5, 1);
  const events = new Array<ClickEvent>(count);
  for (let i = 0; i < count; i++) {
    const doc = Math.floor(random() ** 2 * documents);
    events[i] = {
      eventId: `${(0x10000000 + i).toString(16)}-${Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0')}-4e21-9c3a-${i.toString(16).padStart(12, '0')}`,
      eventTs: start + Math.floor((i * 86_400_000) / count) + Math.floor(random() * 5000),
      sessionId: `sess-${Math.floor(random() * 40_000).toString(36).padStart(6, '0')}`,
      // Every 1000th id is beyond 2^53 so the wide path is exercised too.
      documentId: i % 1000 === 0 ? (9_007_199_254_740_993n + BigInt(doc)).toString() : String(10_000_000 + doc),
      title: doc % 17 === 0 ? null : (titles[doc] as string),
      clinicalArea: AREAS[doc % AREAS.length] as string,
    };
  }
  return events;
}

function toJsonLine(e: ClickEvent): string {
  return JSON.stringify({
    event_id: e.eventId,
    event_ts: new Date(e.eventTs).toISOString(),
    session_id: e.sessionId,
    document_id: e.documentId.length > 15 ? e.documentId : Number(e.documentId),
    title: e.title,
    clinical_area: e.clinicalArea,
  });
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

async function runPhase(phase: string, file: string, count: number, rowGroup: number): Promise<PhaseResult> {
  if (phase === 'baseline') {
    // The generated events alone: their RSS is part of every encode figure below.
    const t = performance.now();
    const events = generateEvents(count);
    const seconds = (performance.now() - t) / 1000;
    let jsonBytes = 0;
    for (const e of events) jsonBytes += Buffer.byteLength(toJsonLine(e)) + 1;
    return { phase: 'generate events (baseline)', seconds, events: count, peakRssMb: peakRssMb(), wasmMb: wasmMemory().buffer.byteLength / 1e6, extra: { jsonBytes } };
  }
  if (phase === 'encode' || phase === 'encode-stream') {
    const events = generateEvents(count);
    const t = performance.now();
    let bytes: Uint8Array;
    if (phase === 'encode') {
      bytes = encodeEventsToParquet(events, { rowGroupSize: rowGroup });
    } else {
      const stream = await encodeEventsToParquetStream(events, { rowGroupSize: rowGroup });
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    }
    const seconds = (performance.now() - t) / 1000;
    if (phase === 'encode') await writeFile(file, bytes);
    return {
      phase: phase === 'encode' ? 'encodeEventsToParquet (sync)' : 'encodeEventsToParquetStream',
      seconds,
      events: count,
      peakRssMb: peakRssMb(),
      wasmMb: wasmMemory().buffer.byteLength / 1e6,
    };
  }
  const t = performance.now();
  let events = 0;
  let checksum = 0;
  for await (const batch of readParquetRowGroups(await openAsBlob(file))) {
    if (phase === 'decode-columns') {
      events += batch.numRows;
      checksum += batch.eventIds[batch.numRows - 1]?.length ?? 0;
    } else if (phase === 'decode-events') {
      const decoded = toClickEvents(batch);
      events += decoded.length;
      checksum += decoded[decoded.length - 1]?.eventTs ?? 0;
    } else if (phase === 'decode-contract') {
      // What the Parquet file source feeds the processor: records validated by the contract.
      for (const record of toRecords(batch)) {
        const outcome = parseRawMessage(record, { nowMs: Date.UTC(2030, 0, 1), maxFutureSkewMs: 300_000 });
        if (outcome.ok) events++;
      }
    } else {
      throw new Error(`unknown phase ${phase}`);
    }
  }
  const seconds = (performance.now() - t) / 1000;
  if (events !== count) throw new Error(`${phase}: read ${events} events, expected ${count} (checksum ${checksum})`);
  const label: Record<string, string> = {
    'decode-columns': 'decode (file → column arrays)',
    'decode-events': 'decode + toClickEvents',
    'decode-contract': 'decode + toRecords + parseRawMessage',
  };
  return { phase: label[phase] ?? phase, seconds, events, peakRssMb: peakRssMb(), wasmMb: wasmMemory().buffer.byteLength / 1e6 };
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

async function main(): Promise<void> {
  const count = Number(argument('--events', '1000000'));
  const rowGroup = Number(argument('--row-group', String(DEFAULT_ROW_GROUP_SIZE)));
  const phase = argument('--phase', '');
  if (phase !== '') {
    const result = await runPhase(phase, argument('--file', ''), count, rowGroup);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }

  const loadAtStart = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-parquet-bench-'));
  const file = join(dir, 'events.parquet');
  const self = fileURLToPath(import.meta.url);
  const results: PhaseResult[] = [];
  try {
    for (const p of ['baseline', 'encode', 'encode-stream', 'decode-columns', 'decode-events', 'decode-contract']) {
      const child = spawnSync(
        process.execPath,
        [self, '--phase', p, '--file', file, '--events', String(count), '--row-group', String(rowGroup)],
        { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      if (child.status !== 0) throw new Error(`phase ${p} failed with status ${child.status}`);
      results.push(JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as PhaseResult);
    }
    const fileBytes = (await stat(file)).size;
    const extra = results[0]?.extra ?? {};
    const jsonBytes = extra.jsonBytes ?? 0;

    const rows = results.map((r) => [
      r.phase,
      r.seconds.toFixed(2),
      Math.round(r.events / r.seconds).toLocaleString('en-US'),
      r.peakRssMb.toFixed(0),
      r.wasmMb.toFixed(0),
    ]);
    const header = ['phase', 'seconds', 'events/s', 'peak RSS MB', 'WASM heap MB'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] as string).length)));
    const line = (cells: string[]): string =>
      cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');

    console.log(`$ node_modules/.bin/node bench/parquet-codec.ts --events ${count} --row-group ${rowGroup}`);
    console.log(`node ${process.version}, ${count.toLocaleString('en-US')} events, row groups of ${rowGroup.toLocaleString('en-US')}, snappy`);
    console.log(`(load average at start ${loadAtStart.toFixed(1)} on ${availableParallelism()} cores)\n`);
    console.log(line(header));
    console.log(line(widths.map((w) => '-'.repeat(w))));
    for (const row of rows) console.log(line(row));
    console.log('');
    console.log(`JSON Lines : ${(jsonBytes / 1e6).toFixed(1)} MB (${(jsonBytes / count).toFixed(0)} bytes/event)`);
    console.log(
      `Parquet    : ${(fileBytes / 1e6).toFixed(1)} MB (${(fileBytes / count).toFixed(1)} bytes/event, ` +
        `${((100 * fileBytes) / jsonBytes).toFixed(1)} % of JSON Lines)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
