// A bucket's stored form round-trips, and buckets stored in the earlier form (sessions as
// [session, events] pairs) still restore: a rolling upgrade reads what the old version wrote.
// A final bucket packed for memory (interned ids, counts side by side) still gives the same
// sessions and stored form; a forgotten one keeps its counts and titles.
import { describe, expect, it } from 'vitest';
import { SessionIdInterner, addToBucket, bucketFromData, bucketToData, forEachSession, forgetSessions, packBucket } from '../../src/stream/group-buckets.ts';
import type { GroupBucket, GroupBucketData } from '../../src/stream/group-buckets.ts';

function sampleBucket(): GroupBucket {
  const bucket: GroupBucket = new Map();
  addToBucket(bucket, '42', 's-1', 'Aspirin', 1000, 'e-1');
  addToBucket(bucket, '42', 's-1', 'Aspirin 2', 2000, 'e-2');
  addToBucket(bucket, '7', 's-1', null, 1500, 'e-3');
  addToBucket(bucket, '7', 's-2', null, 1600, 'e-4');
  addToBucket(bucket, '7', 's-2', 'Heparin', 1700, 'e-5');
  return bucket;
}

describe('group bucket stored form', () => {
  it('is flat and round-trips', () => {
    const data = bucketToData(sampleBucket());
    expect(data).toEqual([
      ['42', 2, 's-1', { ts: 2000, eventId: 'e-2', title: 'Aspirin 2' }],
      ['7', 3, ['s-1', 1, 's-2', 2], { ts: 1700, eventId: 'e-5', title: 'Heparin' }],
    ]);
    expect(bucketFromData(JSON.parse(JSON.stringify(data)) as GroupBucketData)).toEqual(sampleBucket());
  });

  it('restores the earlier paired form', () => {
    const earlier = [
      ['42', 2, [['s-1', 2]], { ts: 2000, eventId: 'e-2', title: 'Aspirin 2' }],
      ['7', 3, [['s-1', 1], ['s-2', 2]], { ts: 1700, eventId: 'e-5', title: 'Heparin' }],
    ] as unknown as GroupBucketData;
    expect(bucketFromData(earlier)).toEqual(sampleBucket());
  });
});

function sessionsOf(bucket: GroupBucket): Record<string, [string, number][]> {
  const out: Record<string, [string, number][]> = {};
  bucket.forEach((cell, group) => {
    const list: [string, number][] = [];
    forEachSession(cell, (session, n) => list.push([session, n]));
    out[group] = list;
  });
  return out;
}

describe('final buckets in memory', () => {
  it('packed: the same sessions, counts and stored form, and no more events', () => {
    const bucket = sampleBucket();
    const other = sampleBucket();
    const interner = new SessionIdInterner();
    packBucket(bucket, interner);
    packBucket(other, interner);
    expect(sessionsOf(bucket)).toEqual({ '42': [['s-1', 2]], '7': [['s-1', 1], ['s-2', 2]] });
    expect(bucketToData(bucket)).toEqual(bucketToData(sampleBucket()));
    expect(bucket.get('7')!.sessions instanceof Map).toBe(false);
    expect(sessionsOf(other)).toEqual(sessionsOf(bucket));
    expect(() => addToBucket(bucket, '7', 's-3', null, 1800, 'e-6')).toThrow('an event for a final bucket');
  });

  it('forgotten: counts and titles stay, sessions go', () => {
    const bucket = sampleBucket();
    forgetSessions(bucket);
    expect(bucketToData(bucket)).toEqual([
      ['42', 2, [], { ts: 2000, eventId: 'e-2', title: 'Aspirin 2' }],
      ['7', 3, [], { ts: 1700, eventId: 'e-5', title: 'Heparin' }],
    ]);
  });

  it('the interner gives back an equal id, within and across generations', () => {
    // (String identity is not observable in JS: what interning saves shows in bench:embedded.)
    const interner = new SessionIdInterner(2);
    const ids = ['s-1', 's-2', 's-1', 's-3', 's-1', 's-4', 's-2', 's-5'];
    expect(ids.map((id) => interner.intern(id))).toEqual(ids);
  });
});
