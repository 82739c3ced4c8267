// Types for the Prometheus text-format parser used by the /metrics tests (the package ships none).
declare module 'parse-prometheus-text-format' {
  export interface ParsedMetricFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly {
      readonly value?: string;
      readonly labels?: Readonly<Record<string, string>>;
      readonly buckets?: Readonly<Record<string, string>>;
      readonly count?: string;
      readonly sum?: string;
    }[];
  }
  function parsePrometheusTextFormat(text: string): ParsedMetricFamily[];
  // eslint-disable-next-line no-restricted-syntax -- describes a CommonJS module whose whole export is the function
  export default parsePrometheusTextFormat;
}
