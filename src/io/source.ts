// The port every event source implements (Kafka, file, generator). The processor pulls; the
// source tells it about partition assignment changes in-band, so that state for a partition is
// loaded before its first message and dropped after its last.
import type { RawMessage } from '../marts/types.ts';

export type SourcePoll =
  | {
      readonly kind: 'messages';
      readonly messages: readonly RawMessage[];
      /**
       * Event time a partition has already been read up to although its messages are still held
       * back (an event-time-aligned source): the event_ts of the next message it will deliver. The watermark may
       * count it as that partition's progress, so a partition whose data lies ahead in event time
       * does not hold the watermark back.
       */
      readonly heldBack?: ReadonlyMap<number, number>;
    }
  /** Partitions now owned by this instance. Reading starts at the offsets returned by SourceHooks.offsetsFor. */
  | { readonly kind: 'assigned'; readonly source: string; readonly partitions: readonly number[] }
  /** Partitions no longer owned; no message of theirs follows until they are assigned again. */
  | { readonly kind: 'revoked'; readonly source: string; readonly partitions: readonly number[] }
  /** A bounded source is exhausted (the final watermark becomes +∞). */
  | { readonly kind: 'end' };

export interface SourceHooks {
  /** Next offset to read per partition, from the checkpoint store; null = from the beginning. */
  offsetsFor(source: string, partitions: readonly number[]): Promise<ReadonlyMap<number, string | null>>;
}

export interface MessageSource {
  /** True for files and S3 prefixes: they end, and then every window becomes final. */
  readonly bounded: boolean;
  start(hooks: SourceHooks): Promise<void>;
  /**
   * Waits up to maxWaitMs for up to maxMessages messages. Returns {kind:'messages', messages: []}
   * on timeout. Assignment changes are returned as their own poll result, in order.
   * maxMessages 0 asks for assignment changes only: a source with one pending returns it (a
   * revocation drops the revoked partitions' unpolled messages), otherwise an empty result; no
   * message is handed over. A runner that holds back in event time still follows the group.
   */
  poll(maxMessages: number, maxWaitMs: number): Promise<SourcePoll>;
  /** Stops fetching; pending messages are discarded (they were not committed). */
  close(): Promise<void>;
  /**
   * Forgets everything fetched but not yet polled and starts over from the checkpoint, without
   * leaving a consumer group: the next poll results begin with 'assigned' for the partitions
   * owned now (offsets asked again through offsetsFor). The caller must first have dropped its
   * state for every partition. Used after the checkpoint fence refused a batch: a rejoin there
   * would rebalance the whole group again.
   */
  reload?(): void;
}
