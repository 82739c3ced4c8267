// One webhook POST and what its answer means for a retry: 2xx delivered; 5xx, 429 and network
// errors are worth retrying; any other status is the receiver refusing the message for good.
export type PostOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly error: string }
  | { readonly kind: 'refused'; readonly error: string };

export type WebhookPoster = (body: unknown) => Promise<PostOutcome>;

export function createWebhookPoster(url: string, options: { timeoutMs?: number } = {}): WebhookPoster {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (body) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'retry', error: `network: ${cause ?? (error as Error).message}` };
    }
    // The body is not needed, but reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { kind: 'delivered', status: response.status };
    if (response.status >= 500 || response.status === 429) return { kind: 'retry', error: `HTTP ${response.status}` };
    return { kind: 'refused', error: `HTTP ${response.status}` };
  };
}

/** Exponential back-off: base, 2×base, 4×base … capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
