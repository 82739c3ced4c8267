// Alerts that do not come from the stream: failed jobs and failed quality checks, raised by the
// job layer. Each is logged, counted, and posted to the webhook (when one is configured) with
// exponential back-off on 5xx and network errors; a notification never throws into its caller.
import type { Logger } from '../log.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { jobFailureMessage, qualityFailureMessage } from './slack-message.ts';
import type { JobFailure, QualityFailure, SlackMessage } from './slack-message.ts';
import { backoffMs } from './webhook-poster.ts';
import type { WebhookPoster } from './webhook-poster.ts';

export interface AlertNotifier {
  /** Resolves true once delivered, false when there is no webhook or every attempt failed. */
  notifyJobFailure(failure: JobFailure): Promise<boolean>;
  notifyQualityFailure(failure: QualityFailure): Promise<boolean>;
}

export interface AlertNotifierOptions {
  /** null: log and count only. */
  readonly post: WebhookPoster | null;
  readonly log: Logger;
  readonly metrics?: OperatorMetrics;
  /** Attempts per notification (default 5). */
  readonly attempts?: number;
  readonly backoffBaseMs?: number;
  readonly maxBackoffMs?: number;
}

export function createAlertNotifier(options: AlertNotifierOptions): AlertNotifier {
  const attempts = options.attempts ?? 5;
  const send = async (kind: 'job' | 'quality', message: SlackMessage): Promise<boolean> => {
    options.log.error(`${kind} alert`, { text: message.text });
    if (options.post === null) return false;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await options.post(message);
      if (outcome.kind === 'delivered') {
        options.metrics?.alertDeliveries.inc({ kind, outcome: 'delivered' });
        return true;
      }
      options.metrics?.alertDeliveries.inc({ kind, outcome: outcome.kind === 'refused' ? 'refused' : 'retry' });
      options.log.warn('alert delivery failed', { kind, attempt, error: outcome.error });
      if (outcome.kind === 'refused') return false;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffMs(attempt, options.backoffBaseMs ?? 1000, options.maxBackoffMs ?? 60_000)));
    }
    return false;
  };
  return {
    notifyJobFailure: (failure) => send('job', jobFailureMessage(failure)),
    notifyQualityFailure: (failure) => send('quality', qualityFailureMessage(failure)),
  };
}
