// Slack-compatible webhook bodies (`text` for notifications and clients without blocks, `blocks`
// for the rich layout). Other chat tools that accept Slack's incoming-webhook format read them too.

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

export interface AnomalyAlertMessage {
  readonly sessionId: string;
  readonly severity: string;
  readonly detectedTs: string;
  readonly clickCount: number;
  readonly windowEnd?: string | undefined;
  readonly escalation?: boolean | undefined;
}

export interface JobFailure {
  readonly job: string;
  readonly step?: string | undefined;
  /** First and last day of the run, YYYY-MM-DD. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly runId?: string | undefined;
  readonly error: string;
}

export interface QualityFailure {
  readonly check: string;
  readonly mart: string | null;
  readonly eventDate: string;
  readonly observed: string | null;
  readonly expected: string | null;
}

function section(markdown: string): Record<string, unknown> {
  return { type: 'section', text: { type: 'mrkdwn', text: markdown } };
}

function fields(pairs: readonly [string, string][]): Record<string, unknown> {
  return { type: 'section', fields: pairs.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })) };
}

export function anomalyMessage(alert: AnomalyAlertMessage): SlackMessage {
  const icon = alert.severity === 'CRITICAL' ? ':rotating_light:' : ':warning:';
  const what = alert.escalation === true ? 'escalated to' : 'is';
  const text = `${alert.severity}: session ${alert.sessionId} ${what} anomalous — ${alert.clickCount} clicks within the anomaly span (from ${alert.detectedTs})`;
  return {
    text,
    blocks: [
      section(`${icon} *${alert.severity}* anomalous session \`${alert.sessionId}\``),
      fields([
        ['Clicks in span', String(alert.clickCount)],
        ['Episode started', alert.detectedTs],
        ...(alert.windowEnd === undefined ? [] : [['Last click', alert.windowEnd] as [string, string]]),
        ['Escalation', alert.escalation === true ? 'yes' : 'no'],
      ]),
    ],
  };
}

export function jobFailureMessage(failure: JobFailure): SlackMessage {
  const name = failure.step === undefined ? failure.job : `${failure.job} / ${failure.step}`;
  const range = failure.from === undefined ? '' : failure.to === undefined || failure.to === failure.from ? ` for ${failure.from}` : ` for ${failure.from} … ${failure.to}`;
  return {
    text: `Job failed: ${name}${range}: ${failure.error}`,
    blocks: [
      section(`:x: *Job failed*: \`${name}\`${range}`),
      fields([
        ['Error', failure.error.slice(0, 1500)],
        ...(failure.runId === undefined ? [] : [['Run', `job_runs #${failure.runId}`] as [string, string]]),
      ]),
    ],
  };
}

export function qualityFailureMessage(failure: QualityFailure): SlackMessage {
  const target = failure.mart === null ? 'across marts' : failure.mart;
  return {
    text: `Quality check failed: ${failure.check} (${target}) for ${failure.eventDate}: observed ${failure.observed ?? 'n/a'}, expected ${failure.expected ?? 'n/a'}`,
    blocks: [
      section(`:x: *Quality check failed*: \`${failure.check}\` (${target}) for ${failure.eventDate}`),
      fields([
        ['Observed', failure.observed ?? 'n/a'],
        ['Expected', failure.expected ?? 'n/a'],
      ]),
    ],
  };
}
