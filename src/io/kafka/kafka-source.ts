// Kafka implementation of the MessageSource port, on @platformatic/kafka (chosen by measurement,
// see bench/kafka-clients.ts).
//
// Correctness rests on the database, not on Kafka's committed offsets: every assignment starts each
// partition at the offset SourceHooks.offsetsFor returns, and Kafka commits are never made.
//
// Rebalances are eager (classic group protocol, round-robin assignor): when the group rebalances,
// every partition is revoked, then the new assignment is delivered. Everything is delivered in one
// ordered queue of poll results, so the processor sees, per partition:
//   assigned → messages … → revoked → (assigned → messages … → revoked)*
// and never a message outside an assigned…revoked span. Each assignment gets a fresh driver stream
// tagged with an epoch; a revocation bumps the epoch, so records still in flight from a retired
// stream are dropped, and the buffered messages of revoked partitions are discarded.
//
// offsetsFor is called lazily, when poll() reaches the assignment: by then the processor has
// handled every earlier poll result, so offsets it committed for a previous ownership of the
// partition are already visible. (A processor that polls ahead of its commits must make its writes
// for revoked partitions durable, or abandon them, before it polls past a 'revoked'.)
import { Consumer } from '@platformatic/kafka';
import type { ConsumerGroupJoinPayload, Message, MessagesStream } from '@platformatic/kafka';
import type { RawMessage } from '../../marts/types.ts';
import type { Logger } from '../log.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { toKafkaError } from './kafka-driver-errors.ts';
import { KafkaError, KafkaOutageError, KafkaUnavailableError } from './kafka-errors.ts';

export type KafkaLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type KafkaLogger = (level: KafkaLogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void;

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
  /** Messages held between the driver and poll(); fetching pauses above it. Default 10 000. */
  readonly maxBufferedMessages?: number;
  /** Group session timeout; a member silent this long is expelled. Default 30 000 (broker minimum 6 000). */
  readonly sessionTimeoutMs?: number;
  /**
   * Static group membership (Kafka's group.instance.id): a process restarted with the same id
   * takes its partitions back at once instead of waiting for its old session to expire.
   */
  readonly groupInstanceId?: string;
  /** Receives the adapter's and the driver's notable events. Default: warn and error to stderr. */
  readonly logger?: KafkaLogger;
  /**
   * How long the brokers may stay unreachable: fetches are restarted and a group the member fell
   * out of is joined again, with back-off, for so long; then poll() fails with KafkaOutageError.
   * Unset: fetches are retried forever and a failed rejoin fails poll() at once.
   */
  readonly outageLimitMs?: number;
}

export interface KafkaSourceStats {
  /** Partitions currently assigned (delivered as 'assigned', not yet 'revoked'). */
  readonly assigned: readonly number[];
  /** Messages queued for poll(). */
  readonly buffered: number;
  /** Records the driver has fetched but not yet handed over (its stream buffer while paused). */
  readonly driverBuffered: number;
  readonly paused: boolean;
  /** Records received from the driver since start, including ones dropped by a revocation. */
  readonly received: number;
  readonly generationId: number;
}

export interface KafkaSource extends MessageSource {
  stats(): KafkaSourceStats;
}

type Entry =
  | { readonly t: 'msg'; readonly m: RawMessage }
  | { readonly t: 'assign'; readonly partitions: readonly number[]; readonly epoch: number }
  | { readonly t: 'revoke'; readonly partitions: readonly number[] };

const DEFAULT_MAX_BUFFERED = 10_000;
const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
// Long-poll of a fetch when caught up: bounds the latency of close() and of retiring a stream.
const FETCH_MAX_WAIT_MS = 500;
const RESTART_BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000];
const OFFSET_PATTERN = /^(0|[1-9][0-9]{0,18})$/;
const CLOSE_ATTEMPTS = 4;

export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  const { topic } = options;
  const source = `kafka:${topic}`;
  const maxBuffered = Math.max(1, Math.floor(options.maxBufferedMessages ?? DEFAULT_MAX_BUFFERED));
  const resumeBelow = Math.floor(maxBuffered / 2);
  const sessionTimeout = Math.max(1000, options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS);
  const heartbeatInterval = Math.max(100, Math.min(3000, Math.floor(sessionTimeout / 3)));
  const log: KafkaLogger = options.logger ?? defaultLogger;
  // One fetch response lands whole in the driver's buffer even while paused, so its size follows
  // the buffer bound: ~512 B per buffered message, between 64 KiB and 8 MiB.
  const fetchMaxBytes = Math.min(8 * 1024 * 1024, Math.max(64 * 1024, maxBuffered * 512));

  let consumer: Consumer | null = null;
  let hooks: SourceHooks | null = null;
  let closed = false;
  let failure: unknown = null;
  let polling = false;

  // Ordered queue of poll results; `head` avoids O(n) shifts.
  let queue: Entry[] = [];
  let head = 0;
  let buffered = 0;
  let received = 0;

  // Ownership. `epoch` changes whenever ownership does; anything tagged with an older one is stale.
  let epoch = 0;
  let assigned: number[] = [];
  // Next offset to fetch per assigned partition (null = earliest, not known yet).
  let positions = new Map<number, bigint | null>();
  // The offset each partition was asked to start at, to notice a reset by the driver.
  let startOffsets = new Map<number, bigint>();
  // Revoked because membership went unconfirmed; restored when the same generation heartbeats again.
  let suspended = false;
  // Last proof that the group counts us as a member: a join, or a successful heartbeat.
  let joinedAt = 0;

  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  let streamEpoch = -1;
  let paused = false;
  let fetchedAt = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let restartAttempt = 0;
  let heartbeatFailing = false;
  // Start of the current outage (a fetch, a heartbeat or a join failing; null once one succeeds)
  // and the first error of it, for KafkaOutageError.
  let outageSince: number | null = null;
  let outageError: unknown = null;
  let rejoinTimer: NodeJS.Timeout | null = null;
  let rejoinAttempt = 0;

  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  // ---- outages ----

  function outage(error: unknown): void {
    if (outageSince !== null) return;
    outageSince = Date.now();
    outageError = error;
  }

  function recovered(): void {
    outageSince = null;
    outageError = null;
  }

  function checkOutageLimit(): void {
    const limit = options.outageLimitMs;
    if (limit === undefined || outageSince === null || Date.now() - outageSince <= limit) return;
    const cause = toKafkaError(outageError, `consume ${topic}`);
    fail(new KafkaOutageError(`Kafka stayed unavailable for more than ${limit} ms (KAFKA_OUTAGE_LIMIT): ${cause.message}`, { cause }));
  }

  // The driver gives up rejoining after a few quick retries (a broker still loading its group
  // coordinator after a restart answers COORDINATOR_NOT_AVAILABLE for a while): join again
  // ourselves, with back-off, until the outage limit.
  function scheduleRejoin(c: Consumer): void {
    if (rejoinTimer !== null || closed) return;
    const delay = RESTART_BACKOFF_MS[Math.min(rejoinAttempt, RESTART_BACKOFF_MS.length - 1)]!;
    rejoinAttempt++;
    rejoinTimer = setTimeout(() => {
      rejoinTimer = null;
      if (closed || consumer !== c) return;
      c.joinGroup({ sessionTimeout, heartbeatInterval, rebalanceTimeout: sessionTimeout + 10_000 }).then(
        () => {
          // The join event has queued the assignment.
          rejoinAttempt = 0;
        },
        (error: unknown) => {
          if (closed || consumer !== c) return;
          const translated = toKafkaError(error, `join group ${options.groupId}`);
          if (!translated.retriable) {
            log('error', 'kafka: rejoining the group failed', { topic, code: translated.code, error: translated.message });
            fail(translated);
            return;
          }
          outage(translated);
          log('debug', 'kafka: rejoining the group failed, retrying', { topic, code: translated.code, error: translated.message });
          scheduleRejoin(c);
        },
      );
    }, delay);
  }

  // ---- queue ----

  function push(entry: Entry): void {
    queue.push(entry);
    notify();
  }

  function peek(): Entry | undefined {
    return queue[head];
  }

  function shift(): void {
    head++;
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  // ---- ownership changes ----

  function revokeAll(reason: string): void {
    epoch++;
    // Pending assignments and buffered messages belong to the ownership that just ended.
    queue = queue.slice(head).filter((e) => e.t === 'revoke');
    head = 0;
    buffered = 0;
    retireStream();
    if (assigned.length > 0) {
      log('info', 'kafka partitions revoked', { topic, partitions: assigned, reason });
      push({ t: 'revoke', partitions: assigned });
    }
    assigned = [];
    positions = new Map();
    startOffsets = new Map();
  }

  function queueAssignment(partitions: readonly number[], reason: string): void {
    revokeAll(reason);
    suspended = false;
    if (partitions.length > 0) push({ t: 'assign', partitions: [...partitions].sort((a, b) => a - b), epoch });
  }

  function partitionsOf(assignments: ConsumerGroupJoinPayload['assignments'] | null | undefined): number[] {
    return assignments?.find((a) => a.topic === topic)?.partitions.slice() ?? [];
  }

  // The driver reports stalled heartbeats only once a heartbeat request is under way; when it cannot
  // even reach the coordinator it says nothing. Before handing out messages, make sure the group has
  // confirmed our membership recently enough that our session cannot have expired: past that, the
  // partitions may already belong to another member.
  function membershipConfirmed(): boolean {
    const last = Math.max(joinedAt, consumer?.lastHeartbeat?.getTime() ?? 0);
    const silentFor = Date.now() - last;
    if (silentFor < sessionTimeout - heartbeatInterval) return true;
    log('warn', 'kafka: group membership unconfirmed, revoking partitions until a heartbeat succeeds', { topic, silentForMs: silentFor });
    revokeAll('membership unconfirmed');
    suspended = true;
    return false;
  }

  // Called by poll() when the assignment reaches the head of the queue. Returns false when the
  // assignment went stale while offsetsFor ran; once it is taken over, it is always reported (a
  // revocation racing the stream's start then follows it, in order).
  async function activate(entry: Extract<Entry, { t: 'assign' }>): Promise<boolean> {
    const offsets = await hooks!.offsetsFor(source, entry.partitions);
    if (entry.epoch !== epoch || closed) return false;
    const next = new Map<number, bigint | null>();
    for (const p of entry.partitions) {
      const offset = offsets.get(p) ?? null;
      if (offset !== null && !OFFSET_PATTERN.test(offset)) {
        throw new KafkaError('KAFKA_INVALID_OFFSET', `offsetsFor returned ${JSON.stringify(offset)} for ${source} partition ${p}`, false);
      }
      next.set(p, offset === null ? null : BigInt(offset));
    }
    assigned = [...entry.partitions];
    positions = next;
    startOffsets = new Map([...next].filter((e): e is [number, bigint] => e[1] !== null));
    restartAttempt = 0;
    log('info', 'kafka partitions assigned', {
      topic,
      partitions: assigned,
      offsets: Object.fromEntries([...next].map(([p, o]) => [p, o === null ? 'earliest' : o.toString()])),
    });
    await openStream();
    return true;
  }

  // ---- driver stream ----

  async function openStream(): Promise<void> {
    const c = consumer;
    if (!c || closed || assigned.length === 0) return;
    const myEpoch = epoch;
    const offsets = [...positions]
      .filter((e): e is [number, bigint] => e[1] !== null)
      .map(([partition, offset]) => ({ topic, partition, offset }));
    let s: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      s = await c.consume({
        topics: [topic],
        mode: 'manual',
        offsets,
        // Partitions without a stored offset (and offsets the log no longer holds) start at the earliest.
        fallbackMode: 'earliest',
        autocommit: false,
        maxWaitTime: FETCH_MAX_WAIT_MS,
        maxBytes: fetchMaxBytes,
        // A share per partition, so that one partition's backlog does not starve the others (the
        // watermark is a minimum over partitions: a starved one would hold every window open).
        maxBytesPerPartition: Math.max(16 * 1024, Math.floor(fetchMaxBytes / assigned.length)),
        highWaterMark: Math.max(16, Math.min(1024, maxBuffered)),
      });
    } catch (error) {
      if (myEpoch !== epoch || closed) return;
      onStreamFailure(error);
      return;
    }
    if (myEpoch !== epoch || closed) {
      s.close().catch(() => undefined);
      return;
    }
    stream = s;
    streamEpoch = myEpoch;
    paused = false;
    s.on('fetch', () => {
      fetchedAt = Date.now();
      recovered();
    });
    s.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => onRecord(s, myEpoch, message));
    s.on('error', (error: Error) => {
      if (s !== stream) {
        log('debug', 'kafka: error on a retired stream', { topic, error: error.message });
        return;
      }
      onStreamFailure(error);
    });
  }

  function onRecord(s: MessagesStream<Buffer, Buffer, Buffer, Buffer>, myEpoch: number, message: Message<Buffer, Buffer, Buffer, Buffer>): void {
    received++;
    if (myEpoch !== epoch || s !== stream) return;
    const partition = message.partition;
    const position = positions.get(partition);
    if (position === undefined) return; // not ours (cannot happen with one stream per assignment)
    const start = startOffsets.get(partition);
    if (start !== undefined) {
      if (message.offset < start) {
        log('warn', 'kafka: stored offset is out of the log range, reading from the earliest offset instead', {
          topic,
          partition,
          storedOffset: start.toString(),
          firstOffset: message.offset.toString(),
        });
      }
      startOffsets.delete(partition);
    }
    positions.set(partition, message.offset + 1n);
    restartAttempt = 0;
    recovered();
    const value = message.value;
    push({
      t: 'msg',
      m: {
        source,
        partition,
        offset: message.offset.toString(),
        value: value === undefined || value === null ? null : value,
        receivedAt: fetchedAt || Date.now(),
        producedAt: Number(message.timestamp),
      },
    });
    buffered++;
    if (buffered >= maxBuffered && !paused) {
      paused = true;
      s.pause();
    }
  }

  function retireStream(): void {
    if (restartTimer) {
      clearTimeout(restartTimer);
      restartTimer = null;
    }
    const s = stream;
    stream = null;
    streamEpoch = -1;
    paused = false;
    if (s) {
      s.close().catch((error: unknown) => log('debug', 'kafka: closing a retired stream failed', { topic, error: String(error) }));
    }
  }

  // The driver destroys its stream on fetch errors (broker restart, leader moves). Ownership has not
  // changed, so fetching resumes right after the last queued message, with backoff.
  function onStreamFailure(error: unknown): void {
    const translated = toKafkaError(error, `consume ${topic}`);
    const s = stream;
    stream = null;
    s?.close().catch(() => undefined);
    if (!translated.retriable) {
      log('error', 'kafka: consuming failed', { topic, code: translated.code, error: translated.message });
      fail(translated);
      return;
    }
    outage(translated);
    const delay = RESTART_BACKOFF_MS[Math.min(restartAttempt, RESTART_BACKOFF_MS.length - 1)]!;
    restartAttempt++;
    log(restartAttempt === 1 ? 'warn' : 'debug', 'kafka: fetching failed, retrying', {
      topic,
      code: translated.code,
      error: translated.message,
      retryInMs: delay,
    });
    const myEpoch = epoch;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (myEpoch === epoch && !closed) void openStream();
    }, delay);
  }

  function fail(error: unknown): void {
    if (failure === null) failure = error;
    notify();
  }

  // ---- group events ----

  function onJoin(payload: ConsumerGroupJoinPayload): void {
    if (closed) return;
    joinedAt = Date.now();
    recovered();
    const partitions = partitionsOf(payload.assignments);
    log('info', 'kafka group joined', { topic, groupId: options.groupId, generationId: payload.generationId, partitions });
    queueAssignment(partitions, 'group joined');
  }

  function attach(c: Consumer): void {
    c.on('consumer:group:join', onJoin);
    // Emitted before the member rejoins: the eager protocol's revocation point. No other member
    // can be given our partitions before we have sent our JoinGroup, which follows this event.
    c.on('consumer:group:rebalance', () => {
      if (!closed) revokeAll('group rebalancing');
    });
    c.on('consumer:group:leave', () => {
      if (!closed) revokeAll('left the group');
    });
    // Heartbeats failing for most of the session timeout: the broker may already have handed our
    // partitions to another member, so stop delivering until the group confirms our membership.
    c.on('consumer:heartbeat:stalled', (payload) => {
      if (closed) return;
      outage(payload.lastError ?? new Error('heartbeats stalled'));
      log('warn', 'kafka: heartbeats stalled, revoking partitions until membership is confirmed', {
        topic,
        stalledForMs: payload.stalledFor,
        error: payload.lastError?.message,
      });
      revokeAll('heartbeats stalled');
      suspended = true;
    });
    c.on('consumer:heartbeat:end', () => {
      if (heartbeatFailing) log('info', 'kafka: heartbeats succeed again', { topic });
      heartbeatFailing = false;
      recovered();
      if (!suspended || closed) return;
      // The same generation heartbeats again: we never lost the assignment; reload it from the database.
      queueAssignment(partitionsOf(c.assignments), 'heartbeats recovered');
    });
    // Once per outage at warn, not every heartbeat interval.
    c.on('consumer:heartbeat:error', (payload) => {
      log(heartbeatFailing ? 'debug' : 'warn', 'kafka: heartbeat failed', { topic, error: toKafkaError(payload.error, 'heartbeat').message });
      heartbeatFailing = true;
      outage(payload.error);
    });
    c.on('client:broker:disconnect', (payload) => log('debug', 'kafka: broker disconnected', { broker: payload.broker }));
    // Group rejoin exhausted its retries: this member is out of the group. Surface it; the caller
    // decides whether to build a new source.
    c.on('error', (error: Error) => {
      if (closed) return;
      const translated = toKafkaError(error, `group ${options.groupId}`);
      revokeAll('consumer failed');
      if (translated.retriable && options.outageLimitMs !== undefined) {
        // Out of the group until a join succeeds: nothing is delivered meanwhile.
        outage(translated);
        suspended = true;
        log('warn', 'kafka: the member fell out of its group; joining again', { topic, code: translated.code, error: translated.message });
        scheduleRejoin(c);
        return;
      }
      log('error', 'kafka: consumer failed', { topic, code: translated.code, error: translated.message });
      fail(translated);
    });
  }

  function reload(): void {
    if (closed) return;
    // What we own now: a queued assignment (revokeAll leaves at most the newest one), else the active one.
    let owned: readonly number[] = assigned;
    for (let i = head; i < queue.length; i++) {
      const e = queue[i]!;
      if (e.t === 'assign') owned = e.partitions;
    }
    epoch++;
    queue = [];
    head = 0;
    buffered = 0;
    retireStream();
    assigned = [];
    positions = new Map();
    startOffsets = new Map();
    log('info', 'kafka: reloading the assignment from the checkpoint', { topic, partitions: owned });
    if (owned.length > 0 && !suspended) push({ t: 'assign', partitions: [...owned], epoch });
  }

  // ---- the port ----

  async function start(h: SourceHooks): Promise<void> {
    if (consumer) throw new Error('kafka source already started');
    if (closed) throw new Error('kafka source is closed');
    hooks = h;
    const c = new Consumer({
      clientId: options.clientId,
      groupId: options.groupId,
      ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
      bootstrapBrokers: [...options.brokers],
      sessionTimeout,
      heartbeatInterval,
      // Members rejoin from their heartbeat, not from poll(), so they answer a rebalance quickly.
      rebalanceTimeout: sessionTimeout + 10_000,
      heartbeatStallTimeout: Math.max(heartbeatInterval, sessionTimeout - 2 * heartbeatInterval),
      autocommit: false,
      // The driver nests retries (a join retries its coordinator lookup, which retries its
      // connection): keep each level short; the source restarts failed fetches itself.
      retries: 3,
      retryDelay: 500,
    });
    consumer = c;
    attach(c);
    // The subscription is held here, not by the per-assignment streams: a stream being replaced must
    // never drop the topic from the member's subscription (that would make the driver rejoin).
    c.topics.track(topic);
    try {
      await c.joinGroup({ sessionTimeout, heartbeatInterval, rebalanceTimeout: sessionTimeout + 10_000 });
    } catch (error) {
      consumer = null;
      await c.close(true).catch(() => undefined);
      const translated = toKafkaError(error, `join group ${options.groupId}`);
      if (!translated.retriable) throw translated;
      throw new KafkaUnavailableError(`KAFKA_BROKERS: Kafka at ${options.brokers.join(',')} is unavailable: ${translated.message}`, { cause: translated });
    }
  }

  async function poll(maxMessages: number, maxWaitMs: number): Promise<SourcePoll> {
    if (!consumer && !closed) throw new Error('kafka source not started');
    if (polling) throw new Error('kafka source: poll() called while another poll() is pending');
    polling = true;
    try {
      const controlOnly = maxMessages < 1;
      const limit = Math.max(1, Math.floor(maxMessages));
      const deadline = Date.now() + Math.max(0, maxWaitMs);
      for (;;) {
        checkOutageLimit();
        if (failure !== null) throw failure;
        if (closed) return { kind: 'messages', messages: [] };
        const entry = peek();
        // Control-only polls wait behind messages: every ownership change purges them first
        // (revokeAll, reload), so a pending change always reaches the head.
        if (entry === undefined || (controlOnly && entry.t === 'msg')) {
          const remaining = deadline - Date.now();
          if (remaining <= 0) return { kind: 'messages', messages: [] };
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              wake = null;
              resolve();
            }, remaining);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          continue;
        }
        if (entry.t === 'revoke') {
          shift();
          return { kind: 'revoked', source, partitions: entry.partitions };
        }
        if (entry.t === 'assign') {
          shift();
          let active: boolean;
          try {
            active = await activate(entry);
          } catch (error) {
            // The hook's own errors (the database) pass through unchanged; ours are KafkaErrors.
            fail(error);
            throw error;
          }
          if (active) return { kind: 'assigned', source, partitions: entry.partitions };
          continue;
        }
        if (!membershipConfirmed()) continue;
        const messages: RawMessage[] = [];
        for (let e = peek(); e !== undefined && e.t === 'msg' && messages.length < limit; e = peek()) {
          messages.push(e.m);
          shift();
        }
        buffered -= messages.length;
        if (paused && buffered <= resumeBelow && stream && streamEpoch === epoch) {
          paused = false;
          stream.resume();
        }
        return { kind: 'messages', messages };
      }
    } finally {
      polling = false;
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (rejoinTimer !== null) clearTimeout(rejoinTimer);
    rejoinTimer = null;
    epoch++;
    queue = [];
    head = 0;
    buffered = 0;
    retireStream();
    notify();
    const c = consumer;
    consumer = null;
    if (!c) return;
    // force: closes the driver's streams, then sends LeaveGroup so the group rebalances at once
    // instead of waiting for our session to time out. A stream the driver was still opening (a
    // fetch restarted during a broker outage) makes it refuse to leave ("Cannot leave group while
    // consuming messages") and stay open, its heartbeat timer keeping the process alive: once
    // that stream is there, closing again closes it too.
    for (let attempt = 1; ; attempt++) {
      try {
        await c.close(true);
        return;
      } catch (error) {
        if (attempt >= CLOSE_ATTEMPTS) throw toKafkaError(error, `leave group ${options.groupId}`);
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  function stats(): KafkaSourceStats {
    return {
      assigned: [...assigned],
      buffered,
      driverBuffered: stream?.readableLength ?? 0,
      paused,
      received,
      generationId: consumer?.generationId ?? 0,
    };
  }

  return { bounded: false, start, poll, close, reload, stats };
}

/** The process logger as the source's logger: group joins, assignments and revocations at info. */
export function kafkaLoggerFrom(log: Logger): KafkaLogger {
  return (level, message, fields) => log[level](message, fields === undefined ? undefined : { ...fields });
}

function defaultLogger(level: KafkaLogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void {
  if (level !== 'warn' && level !== 'error') return;
  process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields, time: new Date().toISOString() })}\n`);
}

