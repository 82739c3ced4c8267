// What a dead letter stores of its raw message: nothing a producer sends may make the insert
// fail (PostgreSQL text rejects U+0000), and one huge message must not bloat the table or the
// batch transaction, so only a bounded prefix is kept, with the message's full size beside it.
import { OversizedMessage, UnreadableInput } from '../../marts/types.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** PostgreSQL text cannot hold U+0000: whatever a message contains, its dead letter must insert. */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * Bytes are kept as they arrived (their first maxBytes), their text too when those are valid
 * UTF-8 (readable in SQL); `size` is the whole message's, in bytes.
 */
export function rawParts(value: unknown, maxBytes: number): { text: string | null; hex: string | null; size: number | null } {
  if (value === null || value === undefined) return { text: null, hex: null, size: null };
  if (typeof value === 'string') {
    const size = Buffer.byteLength(value, 'utf8');
    if (size <= maxBytes) return { text: storableText(value), hex: null, size };
    return rawParts(Buffer.from(value, 'utf8'), maxBytes);
  }
  if (value instanceof Uint8Array) {
    const size = value instanceof OversizedMessage || value instanceof UnreadableInput ? value.originalBytes : value.byteLength;
    const kept = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, maxBytes));
    let text: string | null;
    try {
      // A prefix may end inside a character: the text is then the whole characters before it.
      text = storableText(strictUtf8.decode(kept.subarray(0, kept.length - incompleteTail(kept, kept.length < size))));
    } catch {
      text = null;
    }
    return { text, hex: kept.toString('hex'), size };
  }
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return rawParts(json, maxBytes);
}

/** Bytes of a UTF-8 sequence cut short at the end of a prefix (0 when the bytes are whole). */
function incompleteTail(bytes: Uint8Array, truncated: boolean): number {
  if (!truncated) return 0;
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if ((b & 0xc0) !== 0x80) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > back ? back : 0;
    }
  }
  return 0;
}

