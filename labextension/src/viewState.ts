import { IActionError, MlopsApiError } from './request';

/*
 * The state every sidebar view's model has (see `ViewModel`), and the
 * helpers of its lists.
 */

/**
 * Items asked for per page, unless a view says otherwise.
 */
export const PAGE_SIZE = 50;

/**
 * How long typing pauses before a list is searched, in ms.
 */
export const SEARCH_DELAY = 300;

/**
 * How a list is (re)loaded: `first` its first page (of a new filter),
 * `reload` as many items as are shown, `more` the next page, `poll` like
 * `reload` but without showing it is loading (live updates).
 */
export type LoadMode = 'first' | 'reload' | 'more' | 'poll';

/**
 * How many items to ask for: a page, or (on reload) as many as are shown,
 * at most 1000.
 */
export function pageLimit(
  mode: LoadMode,
  shown: number,
  pageSize = PAGE_SIZE
): number {
  return mode === 'reload' || mode === 'poll'
    ? Math.min(Math.max(shown, pageSize), 1000)
    : pageSize;
}

/**
 * The items without repeats (by key), the first kept.
 */
export function unique<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter(item => !seen.has(key(item)) && seen.add(key(item)));
}

/**
 * One page of a list, as a view's REST call returns it.
 */
export interface IPage<TItem> {
  items: TItem[];
  /**
   * How many items match on the server (all of them if it does not page).
   */
  total: number;
}

/**
 * What every sidebar view's state has: a list, the item selected and its
 * detail, and the actions on it. A new object on every change.
 */
export interface IViewState<TItem, TDetail, TKey> {
  /**
   * A list load the user asked for is in flight (the last list stays).
   */
  loading: boolean;
  /**
   * Whether the list has been loaded at least once.
   */
  loaded: boolean;
  /**
   * Why the list could not be loaded; the last good list is kept.
   */
  error: MlopsApiError | null;
  /**
   * The loaded pages of the list.
   */
  items: readonly TItem[];
  /**
   * How many items match on the server.
   */
  total: number;
  /**
   * The item shown in detail.
   */
  selected: TKey | null;
  /**
   * Its detail; while another one loads, the one shown before (or the
   * list's item, when it is a detail too).
   */
  detail: TDetail | null;
  detailLoading: boolean;
  detailError: MlopsApiError | null;
  /**
   * Actions in flight, by key (e.g. `open:<path>`).
   */
  pending: ReadonlySet<string>;
  /**
   * Why the last action failed, until dismissed.
   */
  actionError: IActionError | null;
  /**
   * What the last action did, until dismissed.
   */
  notice: string | null;
}

/**
 * Something loaded from the server: the last value stays while it reloads.
 */
export interface IRemote<T> {
  value: T | null;
  loading: boolean;
  error: MlopsApiError | null;
}

/**
 * A view's list as an `IRemote` (`value` null until loaded).
 */
export function listRemote<TItem>(
  state: IViewState<TItem, unknown, unknown>
): IRemote<readonly TItem[]> {
  const { loaded, items, loading, error } = state;
  return { value: loaded ? items : null, loading, error };
}

/**
 * A view's detail as an `IRemote`.
 */
export function detailRemote<TDetail>(
  state: IViewState<unknown, TDetail, unknown>
): IRemote<TDetail> {
  const { detail, detailLoading, detailError } = state;
  return { value: detail, loading: detailLoading, error: detailError };
}

/**
 * The answer to a load, unless a newer load of the same part came first.
 */
export type Loaded<T> =
  { ok: true; value: T } | { ok: false; error: MlopsApiError };

/**
 * A copy of `set` with `key` in it (`on`) or not.
 */
export function toggled<T>(
  set: ReadonlySet<T>,
  key: T,
  on: boolean
): ReadonlySet<T> {
  const next = new Set(set);
  if (on) {
    next.add(key);
  } else {
    next.delete(key);
  }
  return next;
}

/**
 * What a list view shows: Loading… (before the first load), the empty
 * message (loaded, nothing to show) or the list. `shown` is how many rows
 * it shows, when not one per item.
 */
export function listPhase(
  state: { loading: boolean; loaded: boolean; items: readonly unknown[] },
  shown = state.items.length
): { busy: boolean; empty: boolean; list: boolean } {
  return {
    busy: state.loading && !state.loaded,
    empty: state.loaded && shown === 0,
    list: shown > 0
  };
}

/**
 * Where to scroll when the view moves: to the top of an item, or back to
 * where the list was (`listScroll`).
 */
export function scrollTarget(where: string | null, listScroll: number): number {
  return where === null ? listScroll : 0;
}
