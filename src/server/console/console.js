// The console page: subscribes to /api/live (server-sent events) and redraws every panel from
// each snapshot. Plain browser JavaScript, no build step; uPlot comes from /vendor.
(function () {
  'use strict';

  var chartEl = document.getElementById('traffic-chart');
  var chart = null;

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

  function timeOf(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : '–';
  }

  function drawTraffic(points) {
    var xs = points.map(function (p) { return Date.parse(p.event_minute) / 1000; });
    var clicks = points.map(function (p) { return p.total_clicks; });
    var sessions = points.map(function (p) { return p.unique_sessions; });
    var data = [xs, clicks, sessions];
    var width = Math.max(300, chartEl.clientWidth);
    if (chart === null) {
      chart = new uPlot({
        width: width,
        height: 260,
        series: [
          {},
          { label: 'clicks', stroke: '#4ca3ff', width: 2, fill: 'rgba(76,163,255,0.12)' },
          { label: 'sessions', stroke: '#f2b134', width: 1.5 },
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
  }

  function drawTop(top) {
    byTestId('top-docs-snapshot').textContent = top.snapshot_ts ? 'window ending ' + timeOf(top.snapshot_ts) : 'no snapshot yet';
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
    byTestId('clinical-trend-snapshot').textContent = trend.snapshot_ts ? 'as of ' + timeOf(trend.snapshot_ts) : 'no snapshot yet';
    replaceRows('clinical-trend', trend.rows.map(function (r) {
      var arrow = r.trend_pct === null ? '' : r.trend_pct > 0 ? '↑ ' : r.trend_pct < 0 ? '↓ ' : '→ ';
      var label = r.trend_pct === null ? 'new' : arrow + r.trend_pct.toFixed(2) + ' %';
      var className = 'num ' + (r.trend_pct > 0 ? 'up' : r.trend_pct < 0 ? 'down' : '');
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

  function render(snapshot) {
    drawTraffic(snapshot.traffic);
    drawTop(snapshot.top);
    drawTrend(snapshot.trend);
    drawAnomalies(snapshot.anomalies);
    drawStatus(snapshot.status);
    document.body.setAttribute('data-updated', snapshot.now);
  }

  var connection = byTestId('status-connection');
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
