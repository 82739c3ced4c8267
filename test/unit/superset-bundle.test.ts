// The Superset bundle as Superset would receive it: builds the zip with
// scripts/build-superset-bundle.ts, reads it back and checks that every reference resolves
// (chart → dataset, dataset → database, dashboard position → chart), that datasets only name
// columns the migrations create, that charts only name columns and metrics their dataset has,
// and that the five dashboards hold the charts of issue 5. It does not run Superset: the
// import into a real Superset and the chart-data requests are a separate integration test.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR, ZIP_ROOT, bundleUuid, uuidV5, writeBundle } from '../../scripts/build-superset-bundle.ts';
import { MART_REGISTRY } from '../../src/marts/mart-registry.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

type Doc = Record<string, unknown>;

const outDir = mkdtempSync(join(tmpdir(), 'tidemark-superset-'));
const zipPath = writeBundle(join(outDir, 'bundle.zip'));
const entries = unzipSync(new Uint8Array(readFileSync(zipPath)));
const docs = new Map<string, Doc>(
  Object.entries(entries).map(([name, bytes]) => [name, parse(new TextDecoder().decode(bytes)) as Doc]),
);

function under(folder: string): Array<[string, Doc]> {
  return [...docs].filter(([name]) => name.startsWith(`${ZIP_ROOT}/${folder}/`));
}

const databases = under('databases');
const datasets = under('datasets');
const charts = under('charts');
const dashboards = under('dashboards');
const datasetsByUuid = new Map(datasets.map(([, doc]) => [String(doc['uuid']), doc]));
const chartsByUuid = new Map(charts.map(([, doc]) => [String(doc['uuid']), doc]));

/** Columns of every CREATE TABLE and CREATE VIEW (with its column list) in db/migrations, by name. */
function migrationColumns(): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  for (const file of readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8').replace(/--[^\n]*/g, '');
    for (const match of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)\s*\(([\s\S]*?)\n\);/g)) {
      const columns = new Set<string>();
      for (const line of (match[2] ?? '').split('\n')) {
        const word = /^\s*(\w+)\s+\w/.exec(line)?.[1];
        if (word !== undefined && !['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN'].includes(word.toUpperCase())) {
          columns.add(word);
        }
      }
      tables.set(match[1] ?? '', columns);
    }
    for (const match of sql.matchAll(/CREATE VIEW (\w+)\s*\(([^)]*)\)\s*AS/g)) {
      tables.set(match[1] ?? '', new Set((match[2] ?? '').split(',').map((name) => name.trim())));
    }
  }
  return tables;
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
}

/** Column and metric names a chart's params refer to (saved metrics by name, as the bundle uses). */
function chartReferences(params: Doc): { columns: string[]; metrics: string[] } {
  const columns = [
    ...strings(params['x_axis']),
    ...strings(params['groupby']),
    ...strings(params['columns']),
    ...strings(params['all_columns']),
    ...strings(params['column']),
    ...strings(params['order_by_cols']).map((text) => String((JSON.parse(text) as unknown[])[0])),
  ];
  const metrics = [...strings(params['metrics']), ...strings(params['metric']), ...strings(params['timeseries_limit_metric'])];
  return { columns, metrics };
}

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('superset bundle zip', () => {
  it('is one top folder with the v1 metadata', () => {
    expect([...docs.keys()].every((name) => name.startsWith(`${ZIP_ROOT}/`))).toBe(true);
    expect(docs.get(`${ZIP_ROOT}/metadata.yaml`)).toMatchObject({ version: '1.0.0', type: 'Dashboard' });
    // Read as PyYAML reads it (YAML 1.1): the timestamp must stay a string, Superset's schema
    // rejects the datetime an unquoted one becomes.
    const metadata = parse(new TextDecoder().decode(entries[`${ZIP_ROOT}/metadata.yaml`]), { version: '1.1' }) as Doc;
    expect(metadata['timestamp']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(databases).toHaveLength(1);
    // One dataset per mart of the registry, the histogram and percentile rollups (the clicks
    // rollup feeds the weekday view), the weekday view, and no other.
    expect(datasets.map(([, doc]) => String(doc['table_name'])).sort()).toEqual(
      [...MART_REGISTRY.marts.map((mart) => mart.table), 'mart_session_histogram', 'mart_session_percentiles', 'dash_session_clicks_by_weekday'].sort(),
    );
    expect(dashboards).toHaveLength(5);
  });

  it('uses only keys the v1 import schemas accept (Superset rejects unknown keys)', () => {
    // Fields common to ImportV1*Schema from Superset 2.1 to 4.1 (superset/*/schemas.py).
    const allowed: Record<string, string[]> = {
      databases: ['database_name', 'sqlalchemy_uri', 'password', 'cache_timeout', 'expose_in_sqllab', 'allow_run_async', 'allow_ctas', 'allow_cvas', 'allow_dml', 'allow_file_upload', 'allow_csv_upload', 'extra', 'uuid', 'version', 'is_managed_externally', 'external_url'],
      datasets: ['table_name', 'main_dttm_col', 'description', 'default_endpoint', 'offset', 'cache_timeout', 'schema', 'sql', 'params', 'template_params', 'filter_select_enabled', 'fetch_values_predicate', 'extra', 'uuid', 'columns', 'metrics', 'version', 'database_uuid', 'data', 'is_managed_externally', 'external_url'],
      charts: ['slice_name', 'viz_type', 'params', 'query_context', 'cache_timeout', 'uuid', 'version', 'dataset_uuid', 'is_managed_externally', 'external_url'],
      dashboards: ['dashboard_title', 'description', 'css', 'slug', 'uuid', 'position', 'metadata', 'version', 'is_managed_externally', 'external_url'],
    };
    const column = ['column_name', 'verbose_name', 'is_dttm', 'is_active', 'type', 'groupby', 'filterable', 'expression', 'description', 'python_date_format'];
    const metric = ['metric_name', 'verbose_name', 'metric_type', 'expression', 'description', 'd3format', 'extra', 'warning_text'];
    for (const [folder, keys] of Object.entries(allowed)) {
      for (const [name, doc] of under(folder)) {
        expect(Object.keys(doc).filter((key) => !keys.includes(key)), name).toEqual([]);
        if (folder !== 'datasets') continue;
        for (const c of doc['columns'] as Doc[]) expect(Object.keys(c).filter((key) => !column.includes(key)), name).toEqual([]);
        for (const m of doc['metrics'] as Doc[]) expect(Object.keys(m).filter((key) => !metric.includes(key)), name).toEqual([]);
      }
    }
  });

  it('uses version-5 uuids of the object names', () => {
    // RFC 4122 appendix example: uuid5(DNS namespace, 'www.example.com').
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    for (const [name, doc] of charts) {
      expect(doc['uuid'], name).toBe(bundleUuid('chart', name.replace(/^.*\/|\.yaml$/g, '')));
    }
    const all = [...databases, ...datasets, ...charts, ...dashboards].map(([, doc]) => doc['uuid']);
    expect(new Set(all).size).toBe(all.length);
  });

  it('connects read-only as tidemark_ro with a placeholder password and no DML', () => {
    const [, database] = databases[0] ?? ['', {}];
    expect(String(database['sqlalchemy_uri'])).toMatch(/^postgresql\+psycopg2:\/\/tidemark_ro:[A-Z_]+@[^/]+\/tidemark$/);
    expect(database['allow_dml']).toBe(false);
    expect(database['version']).toBe('1.0.0');
  });

  it('resolves every dataset database_uuid, chart dataset_uuid and dashboard chart uuid', () => {
    const databaseUuids = new Set(databases.map(([, doc]) => doc['uuid']));
    for (const [name, doc] of datasets) expect(databaseUuids.has(doc['database_uuid']), name).toBe(true);
    for (const [name, doc] of charts) expect(datasetsByUuid.has(String(doc['dataset_uuid'])), name).toBe(true);
    for (const [name, doc] of dashboards) {
      const nodes = Object.values(doc['position'] as Record<string, Doc | string>).filter((node): node is Doc => typeof node === 'object');
      const chartNodes = nodes.filter((node) => node['type'] === 'CHART');
      expect(chartNodes.length, name).toBeGreaterThan(0);
      for (const node of chartNodes) {
        expect(chartsByUuid.has(String((node['meta'] as Doc)['uuid'])), `${name} ${String(node['id'])}`).toBe(true);
        // The importer maps chartId to the new chart id and fails with a KeyError without one.
        expect(Number.isInteger((node['meta'] as Doc)['chartId']), `${name} ${String(node['id'])} chartId`).toBe(true);
      }
      // The layout is a tree under ROOT_ID → GRID_ID: every child named exists.
      const ids = new Set(nodes.map((node) => node['id']));
      for (const node of nodes) for (const child of strings(node['children'])) expect(ids.has(child), `${name} → ${child}`).toBe(true);
    }
    // Every chart is on some dashboard.
    const placed = new Set(
      dashboards.flatMap(([, doc]) =>
        Object.values(doc['position'] as Record<string, Doc | string>).flatMap((node) =>
          typeof node === 'object' && node['type'] === 'CHART' ? [String((node['meta'] as Doc)['uuid'])] : [],
        ),
      ),
    );
    expect([...chartsByUuid.keys()].filter((uuid) => !placed.has(uuid))).toEqual([]);
  });

  it('declares only physical columns the migrations create', () => {
    const tables = migrationColumns();
    expect(tables.size).toBeGreaterThan(8);
    for (const [name, doc] of datasets) {
      const table = String(doc['table_name']);
      const columns = tables.get(table);
      expect(columns, `${name}: no CREATE TABLE ${table}`).toBeDefined();
      for (const column of doc['columns'] as Doc[]) {
        if (typeof column['expression'] === 'string' && column['expression'] !== '') continue;
        expect(columns?.has(String(column['column_name'])), `${table}.${String(column['column_name'])}`).toBe(true);
      }
      // A dataset without a time column (the weekday view) has none.
      if (doc['main_dttm_col'] !== null) expect(columns?.has(String(doc['main_dttm_col'])), `${table} main_dttm_col`).toBe(true);
    }
  });

  it('lets charts name only columns and saved metrics of their dataset', () => {
    for (const [name, chart] of charts) {
      const dataset = datasetsByUuid.get(String(chart['dataset_uuid'])) ?? {};
      const columns = new Set((dataset['columns'] as Doc[]).map((column) => column['column_name']));
      const metrics = new Set((dataset['metrics'] as Doc[]).map((metric) => metric['metric_name']));
      const params = chart['params'] as Doc;
      expect(params['viz_type'], name).toBe(chart['viz_type']);
      const refs = chartReferences(params);
      for (const column of refs.columns) expect(columns.has(column), `${name}: column ${column}`).toBe(true);
      for (const metric of refs.metrics) expect(metrics.has(metric), `${name}: metric ${metric}`).toBe(true);
      // SQL filters read the chart's own table (the "newest data" subqueries).
      for (const filter of (params['adhoc_filters'] as Doc[] | undefined) ?? []) {
        if (filter['expressionType'] === 'SQL') expect(String(filter['sqlExpression']), name).toContain(String(dataset['table_name']));
      }
    }
  });

  it('holds the dashboards and charts of issue 5', () => {
    const expected: Record<string, Array<[string, string]>> = {
      'tidemark-realtime': [
        ['echarts_timeseries_line', 'mart_realtime_traffic_minute'],
        ['table', 'mart_realtime_top_docs_1h'],
        ['echarts_timeseries_bar', 'mart_realtime_clinical_trend_24h'],
        ['echarts_timeseries_bar', 'mart_realtime_clinical_trend_24h'],
        ['table', 'mart_realtime_anomaly_sessions'],
        ['echarts_timeseries_bar', 'mart_realtime_anomaly_sessions'],
      ],
      'tidemark-daily-traffic': [
        ['echarts_timeseries_line', 'mart_daily_traffic'],
        ['echarts_timeseries_bar', 'mart_daily_traffic'],
        ['heatmap_v2', 'mart_daily_traffic'],
      ],
      'tidemark-clinical-areas': [
        ['pie', 'mart_clinical_areas'],
        ['echarts_area', 'mart_clinical_areas'],
        ['table', 'mart_clinical_areas'],
      ],
      'tidemark-session-behaviour': [
        ['echarts_timeseries_bar', 'mart_session_histogram'],
        ['echarts_timeseries_bar', 'mart_session_histogram'],
        ['echarts_timeseries_line', 'mart_session_percentiles'],
        ['box_plot', 'dash_session_clicks_by_weekday'],
      ],
      'tidemark-popular-documents': [
        ['table', 'mart_popular_documents'],
        ['echarts_timeseries_line', 'mart_popular_documents'],
      ],
    };
    const actual: Record<string, Array<[string, string]>> = {};
    for (const [, doc] of dashboards) {
      const chartsOnIt = Object.values(doc['position'] as Record<string, Doc | string>).flatMap((node) =>
        typeof node === 'object' && node['type'] === 'CHART' ? [chartsByUuid.get(String((node['meta'] as Doc)['uuid'])) ?? {}] : [],
      );
      actual[String(doc['slug'])] = chartsOnIt
        .map((chart): [string, string] => [String(chart['viz_type']), String(datasetsByUuid.get(String(chart['dataset_uuid']))?.['table_name'])])
        .sort();
    }
    for (const list of Object.values(expected)) list.sort();
    expect(actual).toEqual(expected);

    const realtime = charts.map(([, doc]) => doc).filter((doc) => doc['viz_type'] === 'echarts_timeseries_bar');
    // Clicks (counts) and trend_pct (±100 %) are separate charts: on one axis the trend flattens the counts.
    const trendCharts = realtime.filter((doc) => datasetsByUuid.get(String(doc['dataset_uuid']))?.['table_name'] === 'mart_realtime_clinical_trend_24h');
    const trendDataset = datasetsByUuid.get(String(trendCharts[0]?.['dataset_uuid'])) ?? {};
    const trendMetric = (trendDataset['metrics'] as Doc[]).find((metric) => String(metric['expression']).includes('trend_pct'));
    expect(trendCharts.map((doc) => strings((doc['params'] as Doc)['metrics'])).sort()).toEqual([['clicks'], [String(trendMetric?.['metric_name'])]]);
    const topDocs = charts.map(([, doc]) => doc).find((doc) => datasetsByUuid.get(String(doc['dataset_uuid']))?.['table_name'] === 'mart_realtime_top_docs_1h');
    expect((topDocs?.['params'] as Doc)['row_limit']).toBe(20);
  });

  it('is byte-for-byte reproducible', () => {
    const again = writeBundle(join(outDir, 'again.zip'));
    expect(Buffer.compare(readFileSync(again), readFileSync(zipPath))).toBe(0);
  });

  it('writes --database-uri into the database YAML only, keeping its comments', () => {
    const uri = 'postgresql+psycopg2://tidemark_ro:s3cret@db.example:5432/marts';
    const withUri = unzipSync(new Uint8Array(readFileSync(writeBundle(join(outDir, 'uri.zip'), BUNDLE_DIR, { databaseUri: uri }))));
    const changed = Object.keys(withUri).filter((name) => Buffer.compare(Buffer.from(withUri[name] ?? []), Buffer.from(entries[name] ?? [])) !== 0);
    expect(changed).toEqual([`${ZIP_ROOT}/databases/tidemark.yaml`]);
    const text = new TextDecoder().decode(withUri[`${ZIP_ROOT}/databases/tidemark.yaml`]);
    expect((parse(text) as Doc)['sqlalchemy_uri']).toBe(uri);
    expect(text).toMatch(/^# /);
  });
});
