// The alert notifier of the job layer as every command builds it: webhook ALERT_WEBHOOK_URL when
// set (retried with back-off on 5xx and network errors), otherwise log lines only.
import type { TidemarkConfig } from '../../config.ts';
import { createAlertNotifier } from '../../io/alerts/alert-notifier.ts';
import type { AlertNotifier } from '../../io/alerts/alert-notifier.ts';
import { createWebhookPoster } from '../../io/alerts/webhook-poster.ts';
import { createLogger } from '../../io/log.ts';
import type { OperatorMetrics } from '../../io/metrics.ts';

export function configuredAlertNotifier(config: TidemarkConfig, metrics?: OperatorMetrics): AlertNotifier {
  return createAlertNotifier({
    post: config.alerts.webhookUrl === null ? null : createWebhookPoster(config.alerts.webhookUrl),
    log: createLogger(config.log.level, { component: 'alerts' }),
    ...(metrics === undefined ? {} : { metrics }),
  });
}
