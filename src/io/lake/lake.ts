// The lake port: an object store holding the curated archive (SPEC §1, §7). Two adapters
// implement it — S3 (any S3-compatible endpoint) and a local folder — behind LAKE_URL.
// Keys are '/'-separated paths relative to the lake's root (the URL's prefix).

export interface LakeObject {
  readonly key: string;
  readonly size: number;
}

export interface Lake {
  /** The LAKE_URL this lake was opened from (for logs and status). */
  readonly url: string;
  /**
   * Stores body under key, replacing any object there. Atomic for readers: they see the old
   * object, or the whole new one, never a part.
   */
  put(key: string, body: Uint8Array): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  /** Every object whose key starts with prefix, sorted by key. */
  list(prefix: string): Promise<LakeObject[]>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
