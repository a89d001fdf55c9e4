/**
 * Server-side paging of the Models view's lists.
 */

/**
 * Models, and versions of a model, asked for per page.
 */
export const PAGE_SIZE = 50;

/**
 * How long typing pauses before the list is searched, in ms.
 */
export const SEARCH_DELAY = 300;

/**
 * How many items to ask for: a page, or (on reload) as many as are shown.
 */
export function pageLimit(
  mode: 'first' | 'reload' | 'more',
  shown: number
): number {
  return mode === 'reload'
    ? Math.min(Math.max(shown, PAGE_SIZE), 1000)
    : PAGE_SIZE;
}

export function unique<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter(item => !seen.has(key(item)) && seen.add(key(item)));
}
