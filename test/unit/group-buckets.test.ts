// A bucket's stored form round-trips, and buckets stored in the earlier form (sessions as
// [session, events] pairs) still restore: a rolling upgrade reads what the old version wrote.
import { describe, expect, it } from 'vitest';
import { addToBucket, bucketFromData, bucketToData } from '../../src/stream/group-buckets.ts';
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
