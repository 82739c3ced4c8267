// The lake conformance suite: one set of cases every Lake adapter must pass (local folder, S3).
// Each adapter's test file calls runLakeConformance with a factory for a fresh, empty lake.
import { afterEach, describe, expect, it } from 'vitest';
import type { Lake } from '../../src/io/lake/lake.ts';

export interface LakeUnderTest {
  readonly lake: Lake;
  /** Removes what the test left behind (the folder, the S3 prefix). */
  dispose(): Promise<void>;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (body: Uint8Array | null): string | null => (body === null ? null : new TextDecoder().decode(body));

export function runLakeConformance(label: string, newLake: () => Promise<LakeUnderTest>): void {
  describe(`lake conformance: ${label}`, () => {
    let current: LakeUnderTest | undefined;
    const open = async (): Promise<Lake> => {
      current = await newLake();
      return current.lake;
    };
    afterEach(async () => {
      await current?.dispose();
      current = undefined;
    });

    it('gets what was put, and null for a key never written', async () => {
      const lake = await open();
      await lake.put('a/b/c.txt', bytes('hello'));
      expect(text(await lake.get('a/b/c.txt'))).toBe('hello');
      expect(await lake.get('a/b/missing.txt')).toBeNull();
      expect(await lake.get('nowhere/at/all')).toBeNull();
    });

    it('replaces an object whole', async () => {
      const lake = await open();
      await lake.put('x/one', bytes('first version, longer'));
      await lake.put('x/one', bytes('second'));
      expect(text(await lake.get('x/one'))).toBe('second');
      expect(await lake.list('x/')).toEqual([{ key: 'x/one', size: 6 }]);
    });

    it('lists by prefix, sorted by key, with sizes; keys may hold =', async () => {
      const lake = await open();
      const keys = [
        'curated/event_date=2026-03-08/t-p0001-o00000000000000000010-o00000000000000000019.parquet',
        'curated/event_date=2026-03-07/t-p0000-o00000000000000000000-o00000000000000000009.parquet',
        'curated/event_date=2026-03-07/t-p0002-o00000000000000000000-o00000000000000000004.parquet',
        'other/event_date=2026-03-07/x',
        'curated-not-a-folder',
      ];
      for (const [i, key] of keys.entries()) await lake.put(key, bytes('x'.repeat(i + 1)));
      expect(await lake.list('curated/')).toEqual([
        { key: keys[1], size: 2 },
        { key: keys[2], size: 3 },
        { key: keys[0], size: 1 },
      ]);
      expect((await lake.list('curated/event_date=2026-03-07/')).map((o) => o.key)).toEqual([keys[1], keys[2]]);
      expect((await lake.list('curated')).map((o) => o.key)).toEqual([keys[4], keys[1], keys[2], keys[0]]);
      expect(text(await lake.get(keys[0]!))).toBe('x');
      expect(await lake.list('nothing/')).toEqual([]);
    });

    it('deletes, and deleting a missing object is not an error', async () => {
      const lake = await open();
      await lake.put('d/1', bytes('1'));
      await lake.put('d/2', bytes('2'));
      await lake.delete('d/1');
      await lake.delete('d/1');
      await lake.delete('d/never');
      expect(await lake.get('d/1')).toBeNull();
      expect(await lake.list('d/')).toEqual([{ key: 'd/2', size: 1 }]);
    });

    it('stores a 5 MB object byte for byte', async () => {
      const lake = await open();
      const body = new Uint8Array(5 * 1024 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7919 + (i >> 13)) & 0xff;
      await lake.put('big/object.bin', body);
      const back = await lake.get('big/object.bin');
      expect(back?.length).toBe(body.length);
      expect(Buffer.compare(Buffer.from(back!), Buffer.from(body))).toBe(0);
      expect(await lake.list('big/')).toEqual([{ key: 'big/object.bin', size: body.length }]);
    });

    it('refuses keys that could escape the root', async () => {
      const lake = await open();
      await expect(lake.put('../escape', bytes('x'))).rejects.toThrow(/invalid lake key/);
      await expect(lake.put('a//b', bytes('x'))).rejects.toThrow(/invalid lake key/);
    });
  });
}

/** Deletes every object under the lake's root (for S3 prefixes a test created). */
export async function emptyLake(lake: Lake): Promise<void> {
  for (const object of await lake.list('')) await lake.delete(object.key);
}
