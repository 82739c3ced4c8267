// The console page: draws the snapshot the server put into the page (so the first render has
// data), then subscribes to /api/live (server-sent events) and redraws every panel from each
// snapshot. Dates and times are shown in the mart time zone. Plain browser JavaScript, no build
// step; uPlot comes from /vendor.
(function () {
  'use strict';

  var chartEl = document.getElementById('traffic-chart');
  var chart = null;
  var timeZone = 'UTC';
  var finalBefore = null;

  function byTestId(id) {
    return document.querySelector('[data-testid="' + id + '"]');
  }

  function text(value) {
    return value === null || value === undefined ? '–' : String(value);
  }

  function cell(content, className) {
    var td = document.createElement('td');
    td.textContent = text(content);
    if (className) td.className = className;
    return td;
  }

  function row(cells, attrs) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) { tr.appendChild(c); });
    Object.keys(attrs || {}).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
    return tr;
  }

  function replaceRows(testId, rows) {
    var tbody = byTestId(testId).querySelector('tbody');
    tbody.replaceChildren.apply(tbody, rows);
  }

  function seconds(value) {
    if (value === null || value === undefined) return '–';
    if (value < 120) return value.toFixed(1) + ' s';
    if (value < 7200) return (value / 60).toFixed(1) + ' min';
    return (value / 3600).toFixed(1) + ' h';
  }

  // "2026-03-10 14:05:00" in the mart time zone (the zone is named in the header).
  function timeOf(iso) {
    if (!iso) return '–';
    return new Intl.DateTimeFormat('sv-SE', { timeZone: timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
  }

  function provisional(iso) {
    return finalBefore === null ? false : Date.parse(iso) >= Date.parse(finalBefore);
  }

  function drawTraffic(points) {
    var xs = points.map(function (p) { return Date.parse(p.event_minute) / 1000; });
    // Final minutes solid; provisional ones (at or after the watermark) dashed, joined to the last final one.
    var lastFinal = -1;
    points.forEach(function (p, i) { if (!provisional(p.event_minute)) lastFinal = i; });
    var clicks = points.map(function (p, i) { return i <= lastFinal ? p.total_clicks : null; });
    var pending = points.map(function (p, i) { return lastFinal < 0 || i >= lastFinal ? p.total_clicks : null; });
    var sessions = points.map(function (p) { return p.unique_sessions; });
    var data = [xs, clicks, pending, sessions];
    var width = Math.max(300, chartEl.clientWidth);
    if (chart === null) {
      chart = new uPlot({
        width: width,
        height: 260,
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), timeZone); },
        series: [
          {},
          { label: 'clicks', stroke: '#4ca3ff', width: 2, fill: 'rgba(76,163,255,0.12)' },
          { label: 'clicks (provisional)', stroke: '#f2b134', width: 2, dash: [6, 4] },
          { label: 'sessions', stroke: '#b38cff', width: 1.5 },
        ],
        axes: [
          { stroke: '#8aa0b2', grid: { stroke: '#223140' } },
          { stroke: '#8aa0b2', grid: { stroke: '#223140' } },
        ],
      }, data, chartEl);
    } else {
      chart.setData(data);
      if (Math.abs(chart.width - width) > 4) chart.setSize({ width: width, height: 260 });
    }
    chartEl.setAttribute('data-points', String(xs.length));
    chartEl.setAttribute('data-provisional-points', String(points.length - 1 - lastFinal));
  }

  function drawTop(top) {
    byTestId('top-docs-snapshot').textContent = top.snapshot_ts
      ? 'window ending ' + timeOf(top.snapshot_ts) + (provisional(top.snapshot_ts) ? ' (provisional)' : '')
      : 'no snapshot yet';
    byTestId('top-docs').setAttribute('data-snapshot', top.snapshot_ts || '');
    replaceRows('top-docs', top.rows.map(function (r) {
      return row([
        cell(r.rank),
        cell(r.title || 'document ' + r.document_id),
        cell(r.click_count, 'num'),
        cell(r.unique_sessions, 'num'),
      ], { 'data-testid': 'top-doc-row', 'data-document-id': r.document_id, 'data-clicks': String(r.click_count) });
    }));
  }

  function drawTrend(trend) {
    byTestId('clinical-trend-snapshot').textContent = trend.snapshot_ts
      ? 'as of ' + timeOf(trend.snapshot_ts) + (provisional(trend.snapshot_ts) ? ' (provisional)' : '')
      : 'no snapshot yet';
    // A percentage against a partial previous day would read as a real change: none is shown.
    var complete = trend.previous_window_complete === true;
    var coverage = byTestId('trend-coverage');
    coverage.hidden = complete || !trend.snapshot_ts;
    coverage.textContent = complete || !trend.snapshot_ts ? ''
      : 'n/a: no full previous 24 h to compare with — the data start at ' + timeOf(trend.data_since) +
        ', after the previous window began (' + timeOf(trend.previous_window_start) + ').';
    replaceRows('clinical-trend', trend.rows.map(function (r) {
      var arrow = r.trend_pct === null ? '' : r.trend_pct > 0 ? '↑ ' : r.trend_pct < 0 ? '↓ ' : '→ ';
      var label = !complete ? 'n/a' : r.trend_pct === null ? 'new' : arrow + r.trend_pct.toFixed(2) + ' %';
      var className = 'num ' + (!complete ? '' : r.trend_pct > 0 ? 'up' : r.trend_pct < 0 ? 'down' : '');
      return row([cell(r.clinical_area), cell(r.click_count, 'num'), cell(r.unique_sessions, 'num'), cell(label, className)], { 'data-testid': 'trend-row' });
    }));
  }

  function drawAnomalies(rows) {
    var list = byTestId('anomaly-list');
    var items = rows.map(function (a) {
      var li = document.createElement('li');
      li.className = 'severity-' + a.severity;
      li.setAttribute('data-testid', 'anomaly-row');
      li.setAttribute('data-severity', a.severity);
      var sev = document.createElement('span');
      sev.className = 'sev';
      sev.textContent = a.severity;
      li.appendChild(sev);
      li.appendChild(document.createTextNode(
        a.session_id + ' — ' + a.click_count + ' clicks from ' + timeOf(a.detected_ts) + ' (raised ' + timeOf(a.raised_at) + ')'));
      return li;
    });
    list.replaceChildren.apply(list, items);
  }

  function drawStatus(status) {
    var c = status.consumers[0];
    byTestId('status-watermark').textContent = c ? (c.watermark ? timeOf(c.watermark) : '+∞ (source ended)') : '–';
    byTestId('status-watermark-delay').textContent = c ? seconds(c.watermark_delay_sec) : '–';
    byTestId('status-checkpoint-age').textContent = c ? seconds(c.checkpoint_age_sec) + ' ago' : '–';
    byTestId('status-lag').textContent = status.lag === null ? 'n/a' : String(status.lag);
    byTestId('status-dead-letters').textContent = String(status.dead_letters_1h);
    byTestId('status-late-events').textContent = String(status.late_events_1h);
    replaceRows('job-runs', status.last_runs.map(function (r) {
      var range = r.range_from ? r.range_from + (r.range_to && r.range_to !== r.range_from ? ' … ' + r.range_to : '') : '';
      return row([
        cell(r.job + (r.step ? ' / ' + r.step : '')),
        cell(range),
        cell(timeOf(r.started_at)),
        cell(r.duration_sec === null ? 'running' : seconds(r.duration_sec), 'num'),
        cell(r.outcome, 'outcome-' + r.outcome),
      ], { 'data-testid': 'job-run-row' });
    }));
    replaceRows('drift', status.drift.map(function (d) {
      return row([cell(d.mart), cell(d.event_date), cell(d.rows_compared, 'num'), cell(d.rows_changed, 'num'),
        cell(d.rows_added, 'num'), cell(d.rows_removed, 'num'), cell(d.max_abs_diff, 'num')], { 'data-testid': 'drift-row' });
    }));
  }

  function drawArchive(status) {
    replaceRows('archive', status.archive.map(function (a) {
      return row([
        cell(a.consumer),
        cell(a.watermark ? timeOf(a.watermark) : '+∞ (source ended)'),
        cell(seconds(a.watermark_delay_sec), 'num'),
        cell(a.last_flush ? timeOf(a.last_flush) + ' (' + seconds(a.last_flush_age_sec) + ' ago)' : 'none yet'),
        cell(a.committed_offsets, 'num'),
      ], { 'data-testid': 'archive-row', 'data-consumer': a.consumer, 'data-watermark': a.watermark || '' });
    }));
    var d = status.alert_delivery;
    byTestId('alerts-queued').textContent = String(d.queued);
    byTestId('alerts-retrying').textContent = String(d.retrying);
    byTestId('alerts-sent').textContent = String(d.sent);
    byTestId('alerts-failed').textContent = String(d.failed);
    replaceRows('dead-letter-reasons', status.dead_letter_reasons_1h.map(function (r) {
      return row([cell(r.reason), cell(r.count, 'num')], { 'data-testid': 'dead-letter-reason-row', 'data-reason': r.reason, 'data-count': String(r.count) });
    }));
  }

  function drawReadiness(readiness) {
    var ready = byTestId('status-ready');
    ready.textContent = readiness.ready ? 'ready' : 'not ready';
    ready.className = readiness.ready ? 'ready' : 'not-ready';
    var list = byTestId('readiness');
    var reasons = readiness.reasons && readiness.reasons.length > 0 ? readiness.reasons : [readiness.ready ? 'ready: database answers, checkpoints fresh, lag within bounds' : 'not ready'];
    list.replaceChildren.apply(list, reasons.map(function (r) {
      var li = document.createElement('li');
      li.textContent = typeof r === 'string' ? r : JSON.stringify(r);
      return li;
    }));
    list.setAttribute('data-ready', String(readiness.ready));
  }

  function render(snapshot) {
    timeZone = snapshot.time_zone || 'UTC';
    finalBefore = snapshot.final_before;
    byTestId('time-zone').textContent = timeZone;
    byTestId('snapshot-time').textContent = timeOf(snapshot.now);
    byTestId('final-before').textContent = finalBefore ? timeOf(finalBefore) : 'none';
    drawTraffic(snapshot.traffic);
    drawTop(snapshot.top);
    drawTrend(snapshot.trend);
    drawAnomalies(snapshot.anomalies);
    drawStatus(snapshot.status);
    drawArchive(snapshot.status);
    byTestId('alert-webhook').textContent = snapshot.alert_webhook === false
      ? 'No ALERT_WEBHOOK_URL in this process: it delivers none of them.'
      : snapshot.alert_webhook === true ? 'Delivered to ALERT_WEBHOOK_URL.' : '';
    drawReadiness(snapshot.readiness);
    document.body.setAttribute('data-updated', snapshot.now);
  }

  // The server's snapshot, in the page itself: numbers before the feed connects.
  var initial = JSON.parse(document.getElementById('initial-snapshot').textContent || 'null');
  if (initial !== null) render(initial);

  var connection = byTestId('status-connection');
  if (initial !== null) connection.textContent = 'page snapshot, connecting';
  var feed = new EventSource('/api/live');
  feed.addEventListener('snapshot', function (event) {
    connection.textContent = 'live';
    connection.className = 'online';
    render(JSON.parse(event.data));
  });
  feed.onerror = function () {
    connection.textContent = 'reconnecting';
    connection.className = 'offline';
  };
})();
