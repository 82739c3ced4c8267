// Builds the body of Superset's `POST /api/v1/chart/data` from a chart's saved params (its
// form data). Charts imported from a bundle have no query_context — the browser builds one from
// the form data with each viz plugin's buildQuery — so a test asking for their data has to do
// the same. Covers the viz types of superset/bundle; an unknown viz_type is an error, so a new
// chart type cannot slip through the import test unchecked.

export interface ChartForQuery {
  readonly id: number;
  readonly sliceName: string;
  readonly vizType: string;
  readonly datasourceId: number;
  readonly datasourceType: string;
  /** The chart's params: Superset stores them as a JSON string. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** A query column: a physical column name or an adhoc SQL column (the temporal x-axis). */
type QueryColumn =
  | string
  | {
      readonly expressionType: 'SQL';
      readonly sqlExpression: string;
      readonly label: string;
      readonly columnType: 'BASE_AXIS';
      readonly timeGrain?: string;
    };

export interface ChartQueryObject {
  readonly columns: readonly QueryColumn[];
  /** Absent for raw (non-aggregated) queries: Superset groups by the columns only when metrics are given. */
  readonly metrics?: readonly string[];
  readonly orderby: readonly (readonly [string, boolean])[];
  readonly filters: readonly { readonly col: string; readonly op: string; readonly val: unknown }[];
  readonly extras: { readonly where?: string; readonly having?: string };
  readonly time_range: string;
  readonly row_limit: number;
  readonly series_columns?: readonly string[];
  readonly series_limit?: number;
  readonly series_limit_metric?: string;
  readonly order_desc?: boolean;
  readonly post_processing: readonly { readonly operation: string; readonly options: Record<string, unknown> }[];
}

export interface ChartDataRequest {
  readonly datasource: { readonly id: number; readonly type: string };
  readonly force: boolean;
  readonly queries: readonly ChartQueryObject[];
  readonly form_data: Readonly<Record<string, unknown>>;
  readonly result_format: 'json';
  readonly result_type: 'full';
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string') throw new Error(`expected a column or saved-metric name, got ${JSON.stringify(item)}`);
    return item;
  });
}

function text(params: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = params[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function positiveInt(params: Readonly<Record<string, unknown>>, key: string, fallback: number): number {
  const value = Number(params[key]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

interface AdhocFilter {
  readonly expressionType?: string;
  readonly clause?: string;
  readonly sqlExpression?: string | null;
  readonly subject?: string | null;
  readonly operator?: string | null;
  readonly comparator?: unknown;
}

/** The browser's split of adhoc filters: SQL ones into extras.where/having, simple ones into filters. */
function splitFilters(params: Readonly<Record<string, unknown>>): Pick<ChartQueryObject, 'filters' | 'extras'> {
  const adhoc = (params['adhoc_filters'] ?? []) as readonly AdhocFilter[];
  const where: string[] = [];
  const having: string[] = [];
  const filters: { col: string; op: string; val: unknown }[] = [];
  for (const filter of adhoc) {
    if (filter.expressionType === 'SQL') {
      const sql = filter.sqlExpression ?? '';
      if (sql.trim() === '') continue;
      (filter.clause === 'HAVING' ? having : where).push(`(${sql})`);
    } else if (filter.expressionType === 'SIMPLE' && filter.subject && filter.operator) {
      filters.push({ col: filter.subject, op: filter.operator, val: filter.comparator });
    } else {
      throw new Error(`unsupported adhoc filter ${JSON.stringify(filter)}`);
    }
  }
  const extras: { where?: string; having?: string } = {};
  if (where.length > 0) extras.where = where.join(' AND ');
  if (having.length > 0) extras.having = having.join(' AND ');
  return { filters, extras };
}

/** The x-axis as the browser sends it: a BASE_AXIS column carrying the chart's time grain. */
function xAxisColumn(params: Readonly<Record<string, unknown>>): QueryColumn {
  const xAxis = text(params, 'x_axis');
  if (xAxis === undefined) throw new Error('chart has no x_axis');
  const timeGrain = text(params, 'time_grain_sqla');
  return {
    expressionType: 'SQL',
    sqlExpression: xAxis,
    label: xAxis,
    columnType: 'BASE_AXIS',
    ...(timeGrain === undefined ? {} : { timeGrain }),
  };
}

/** [["col", ascending]] from the table chart's order_by_cols, which holds JSON strings. */
function rawOrderBy(params: Readonly<Record<string, unknown>>): (readonly [string, boolean])[] {
  return strings(params['order_by_cols']).map((entry) => {
    const parsed: unknown = JSON.parse(entry);
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'boolean') {
      throw new Error(`bad order_by_cols entry ${entry}`);
    }
    return [parsed[0], parsed[1]] as const;
  });
}

function queryObject(params: Readonly<Record<string, unknown>>, vizType: string): ChartQueryObject {
  const base = {
    ...splitFilters(params),
    time_range: text(params, 'time_range') ?? 'No filter',
    row_limit: positiveInt(params, 'row_limit', 10000),
    post_processing: [] as ChartQueryObject['post_processing'],
  };
  const groupby = strings(params['groupby']);
  const metrics = strings(params['metrics'] ?? params['metric']);
  const orderDesc = params['order_desc'] !== false;
  const sortMetric = text(params, 'timeseries_limit_metric');

  switch (vizType) {
    case 'echarts_timeseries_line':
    case 'echarts_timeseries_bar':
    case 'echarts_area': {
      const seriesLimit = positiveInt(params, 'limit', 0);
      return {
        ...base,
        columns: [xAxisColumn(params), ...groupby],
        metrics,
        series_columns: groupby,
        ...(groupby.length > 0 && seriesLimit > 0
          ? { series_limit: seriesLimit, series_limit_metric: sortMetric ?? metrics[0], order_desc: orderDesc }
          : {}),
        orderby: groupby.length > 0 && metrics[0] !== undefined ? [[sortMetric ?? metrics[0], !orderDesc]] : [],
        // As the browser does: one row per x value (sorted), one column per metric and series.
        post_processing: [
          {
            operation: 'pivot',
            options: {
              index: [text(params, 'x_axis')],
              columns: groupby,
              aggregates: Object.fromEntries(metrics.map((metric) => [metric, { operator: 'mean' }])),
              drop_missing_columns: false,
            },
          },
          { operation: 'flatten', options: {} },
        ],
      };
    }
    case 'table': {
      if (params['query_mode'] === 'raw') {
        return { ...base, columns: strings(params['all_columns']), orderby: rawOrderBy(params) };
      }
      const by = sortMetric ?? metrics[0];
      return { ...base, columns: groupby, metrics, orderby: by === undefined ? [] : [[by, !orderDesc]] };
    }
    case 'pie': {
      const metric = metrics[0];
      if (metric === undefined) throw new Error('pie chart without a metric');
      return { ...base, columns: groupby, metrics, orderby: params['sort_by_metric'] === true ? [[metric, false]] : [] };
    }
    case 'heatmap_v2': {
      return { ...base, columns: [xAxisColumn(params), ...groupby], metrics, orderby: [] };
    }
    case 'histogram_v2': {
      const column = text(params, 'column');
      if (column === undefined) throw new Error('histogram without a column');
      // Raw values, binned by Superset's histogram post-processing into one row per bin.
      return {
        ...base,
        columns: [...groupby, column],
        orderby: [],
        post_processing: [
          {
            operation: 'histogram',
            options: {
              column,
              groupby,
              bins: positiveInt(params, 'bins', 5),
              cumulative: params['cumulative'] === true,
              normalize: params['normalize'] === true,
            },
          },
        ],
      };
    }
    case 'box_plot': {
      // Aggregated per (series, distribution columns), then reduced to one box per series.
      const distribution = strings(params['columns']);
      const whisker = text(params, 'whiskerOptions') ?? 'Tukey';
      if (whisker !== 'Tukey' && whisker !== 'Min/max (no outliers)') throw new Error(`unsupported whiskerOptions ${whisker}`);
      return {
        ...base,
        columns: [...groupby, ...distribution],
        metrics,
        series_columns: groupby,
        orderby: [],
        post_processing: [
          {
            operation: 'boxplot',
            options: { groupby, metrics, whisker_type: whisker === 'Tukey' ? 'tukey' : 'min/max' },
          },
        ],
      };
    }
    default:
      throw new Error(`no chart-data mapping for viz_type ${vizType}`);
  }
}

export function chartDataRequest(chart: ChartForQuery): ChartDataRequest {
  return {
    datasource: { id: chart.datasourceId, type: chart.datasourceType },
    force: true,
    queries: [queryObject(chart.params, chart.vizType)],
    form_data: { ...chart.params, slice_id: chart.id },
    result_format: 'json',
    result_type: 'full',
  };
}
