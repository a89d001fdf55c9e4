import { IDriftColumn } from './types';

/**
 * The columns a drift table sorts by.
 */
export type SortKey =
  | 'drifted'
  | 'column'
  | 'test'
  | 'statistic'
  | 'p_adjusted'
  | 'effect_size'
  | 'psi';

/**
 * Drifted columns first, then the smallest adjusted p-values; or by the
 * chosen column, ascending or not.
 */
export function sortColumns(
  columns: IDriftColumn[],
  key: SortKey,
  descending: boolean
): IDriftColumn[] {
  const value = (c: IDriftColumn): number | string => {
    if (key === 'drifted') {
      return c.drifted ? 0 : 1;
    }
    const v = c[key];
    return v === null || v === undefined ? Infinity : v;
  };
  const sign = descending ? -1 : 1;
  return [...columns].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order =
      typeof x === 'string' || typeof y === 'string'
        ? String(x).localeCompare(String(y))
        : x - y;
    return (
      sign * order ||
      Number(b.drifted) - Number(a.drifted) ||
      (a.p_adjusted ?? 1) - (b.p_adjusted ?? 1) ||
      a.column.localeCompare(b.column)
    );
  });
}
