// CPU and memory of a process and all its descendants (a JVM's helper processes, pyspark's
// launcher scripts), sampled from /proc: CPU = Σ utime + stime over every process of the tree,
// each at its last sample; peak RSS = the largest Σ RSS of one sample. A process that ends
// between two samples loses at most one interval of CPU (100 ms by default).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const PAGE_BYTES = 4096;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly cpuTicks: number;
  readonly rssBytes: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), rssBytes: Number(fields[21]) * PAGE_BYTES };
}

function treeOf(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat !== undefined) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: ProcStat[] = [];
  const rootStat = all.find((s) => s.pid === root);
  if (rootStat === undefined) return out;
  const queue = [rootStat];
  while (queue.length > 0) {
    const s = queue.pop()!;
    out.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

export interface TreeUsage {
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly processes: number;
}

export class ProcessTreeMeter {
  readonly #cpu = new Map<number, number>();
  #peakRss = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #root: number;

  constructor(root: number, intervalMs = 100) {
    this.#root = root;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    let rss = 0;
    for (const s of treeOf(this.#root)) {
      this.#cpu.set(s.pid, s.cpuTicks);
      rss += s.rssBytes;
    }
    this.#peakRss = Math.max(this.#peakRss, rss);
  }

  stop(): TreeUsage {
    clearInterval(this.#timer);
    let ticks = 0;
    for (const t of this.#cpu.values()) ticks += t;
    return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssBytes: this.#peakRss, processes: this.#cpu.size };
  }
}
