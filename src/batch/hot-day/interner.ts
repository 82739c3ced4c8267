// Numbers distinct strings 0, 1, 2, … in order of first sight, so that the hot recompute's
// columns and pair keys hold small integers instead of strings. For the few distinct values of
// titles and areas; sessions (millions a day) use StringNumbering, documents DocumentNumbering.

/** What the mart computations need of a numbering. */
export interface Numbering {
  readonly size: number;
  name(n: number): string;
}

export class Interner implements Numbering {
  private readonly numbers = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** The number of value, numbering it when new; `likely` is checked first (−1: no guess). */
  intern(value: string, likely = -1): number {
    if (likely >= 0 && this.names[likely] === value) return likely;
    let n = this.numbers.get(value);
    if (n === undefined) {
      n = this.names.length;
      this.numbers.set(value, n);
      this.names.push(value);
    }
    return n;
  }

  name(n: number): string {
    const value = this.names[n];
    if (value === undefined) throw new RangeError(`no interned value number ${n}`);
    return value;
  }
}
