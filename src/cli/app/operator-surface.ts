// The operator surface every long-running process can carry: the HTTP server (health, metrics,
// API, console) and the webhook sender of the alert outbox, as components, plus the collectors
// that refresh scrape-time metrics (consumer lag, checkpoint age, job runs) from the database.
import type { TidemarkConfig } from '../../config.ts';
import { AlertOutboxSender } from '../../io/alerts/alert-outbox-sender.ts';
import { createWebhookPoster } from '../../io/alerts/webhook-poster.ts';
import type { Database } from '../../io/db/database.ts';
import { addOperatorCollectors } from '../../io/scrape-collectors.ts';
import type { Logger } from '../../io/log.ts';
import type { OperatorMetrics, Registry } from '../../io/metrics.ts';
import { startHttpServer } from '../../server/http-server.ts';
import type { Mount } from '../../server/http-server.ts';
import type { JobControl } from '../../server/job-control.ts';
import { StartupError } from '../command.ts';
import { startStopComponent } from './components.ts';
import type { Component } from './components.ts';

export interface OperatorSurfaceOptions {
  readonly config: TidemarkConfig;
  readonly db: Database;
  readonly registry: Registry;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly lag?: () => Promise<number | null>;
  readonly consumers?: readonly string[];
  readonly jobs?: JobControl;
  /** Why this process starts no jobs (the 503 of POST /api/backfill and /api/reconcile). */
  readonly jobsUnavailable?: string;
  /** Token-protected admin pages, e.g. bull-board under /admin/queues when REDIS_URL is set. */
  readonly mounts?: readonly Mount[];
  /** Called with the bound port once the server listens. */
  readonly onListening?: (port: number) => void;
}

export function operatorSurface(options: OperatorSurfaceOptions): Component[] {
  const { config, db, metrics, log } = options;
  addOperatorCollectors(options.registry, db, metrics, options.lag);
  const components: Component[] = [
    startStopComponent('http', async () => {
      try {
        const server = await startHttpServer({
          db,
          registry: options.registry,
          log,
          port: config.server.port,
          apiToken: config.server.apiToken,
          liveMaxConnections: config.server.liveMaxConnections,
          readiness: config.readiness,
          martTimeZone: config.marts.timeZone,
          alertWebhook: config.alerts.webhookUrl !== null,
          ...(options.lag === undefined ? {} : { lag: options.lag }),
          ...(options.consumers === undefined ? {} : { consumers: options.consumers }),
          ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
          ...(options.jobsUnavailable === undefined ? {} : { jobsUnavailable: options.jobsUnavailable }),
          ...(options.mounts === undefined ? {} : { mounts: options.mounts }),
        });
        options.onListening?.(server.port);
        return server;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new StartupError(`PORT: port ${config.server.port} is already in use; expected a free port`);
        throw error;
      }
    }),
  ];
  if (config.alerts.webhookUrl !== null) {
    const sender = new AlertOutboxSender({ db, post: createWebhookPoster(config.alerts.webhookUrl), log, metrics });
    components.push({
      name: 'alert-webhook',
      run: (signal, started) => {
        started();
        return sender.run(signal);
      },
    });
  }
  return components;
}
