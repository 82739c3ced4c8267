// A batch of archived events as columns, the way the Parquet reader decodes them: the batch
// cores read these directly rather than one ClickEvent object per row.
/**
 * Events as columns, row i across the arrays (the archive reader's batches have this shape).
 * clinicalAreas may hold null or '' (UNKNOWN_CLINICAL_AREA); the rest are valid events' values.
 */
export interface ClickColumns {
  readonly numRows: number;
  readonly eventIds: readonly string[];
  readonly eventTs: ArrayLike<number>;
  readonly sessionIds: readonly string[];
  readonly documentIds: readonly string[];
  readonly titles: readonly (string | null)[];
  readonly clinicalAreas: readonly (string | null)[];
}
