import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, MlopsApiError } from './request';
import {
  IPage,
  IViewState,
  LoadMode,
  Loaded,
  pageLimit,
  PAGE_SIZE,
  SEARCH_DELAY,
  toggled,
  unique
} from './viewState';

export * from './viewState';

/**
 * The model of a sidebar view: a paginated list, one selected item shown in
 * detail, and actions, generic over the list's item, the detail and the
 * selection's key; `TExtra` is the rest of a view's state.
 *
 * It does the I/O and keeps the state; views read `state` and call its
 * methods. Loads are ticketed per part (`latest`): only the answer to the
 * newest load of a part is kept, so a slow stale response never overwrites
 * a newer one.
 */
export abstract class ViewModel<
  TItem,
  TDetail,
  TKey = string,
  TExtra extends object = object
> implements IDisposable {
  constructor(extra: TExtra, options: ViewModel.IOptions = {}) {
    this._searchDelay = options.searchDelay ?? SEARCH_DELAY;
    this._pageSize = options.pageSize ?? PAGE_SIZE;
    this._state = {
      loading: false,
      loaded: false,
      error: null,
      items: [],
      total: 0,
      selected: null,
      detail: null,
      detailLoading: false,
      detailError: null,
      pending: new Set(),
      actionError: null,
      notice: null,
      ...extra
    } as ViewModel.State<TItem, TDetail, TKey, TExtra>;
  }

  get state(): ViewModel.State<TItem, TDetail, TKey, TExtra> {
    return this._state;
  }

  /**
   * Emitted with the new state whenever it changes.
   */
  get changed(): ISignal<this, ViewModel.State<TItem, TDetail, TKey, TExtra>> {
    return this._changed;
  }

  /**
   * The same as `changed`.
   */
  get stateChanged(): ISignal<
    this,
    ViewModel.State<TItem, TDetail, TKey, TExtra>
  > {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload the loaded pages of the list and the selected item.
   */
  async refresh(): Promise<void> {
    await Promise.all([this.loadList('reload'), this.loadDetail()]);
  }

  /**
   * Load the next page of the list.
   */
  async loadMore(): Promise<void> {
    await this.loadList('more');
  }

  /**
   * Show an item in detail, or (`null`) go back to the list. The detail
   * shown stays while the same item reloads; otherwise the list's item
   * stands in for it when `known` finds one.
   */
  async select(key: TKey | null): Promise<void> {
    const same =
      key !== null && this._view.selected !== null
        ? this.sameKey(key, this._view.selected)
        : false;
    this.update({
      selected: key,
      detail: same ? this._view.detail : key === null ? null : this.known(key),
      detailError: null,
      ...this.onSelect(key, same)
    } as Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>>);
    await this.loadDetail();
  }

  /**
   * Go back to the list.
   */
  async deselect(): Promise<void> {
    await this.select(null);
  }

  /**
   * Hide the last action's failure and notice.
   */
  dismiss(): void {
    this._patch({ actionError: null, notice: null });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._searchTimer);
    this.onDispose();
    Signal.clearData(this);
  }

  /**
   * Fetch a page of the list.
   */
  protected abstract fetchPage(query: {
    offset: number;
    limit: number;
  }): Promise<IPage<TItem>>;

  /**
   * Fetch the detail of the selected item.
   */
  protected abstract fetchDetail(key: TKey): Promise<TDetail>;

  /**
   * The key of a list item (for pages that overlap).
   */
  protected abstract itemKey(item: TItem): string;

  /**
   * Whether two selections are the same item; by default `===`.
   */
  protected sameKey(a: TKey, b: TKey): boolean {
    return a === b;
  }

  /**
   * What to show for a selected item before its detail comes.
   */
  protected known(key: TKey): TDetail | null {
    void key;
    return null;
  }

  /**
   * More of the state to change when the selection changes (`same`: the
   * same item again).
   */
  protected onSelect(
    key: TKey | null,
    same: boolean
  ): Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>> {
    void key;
    void same;
    return {};
  }

  /**
   * Clear a view's own timers and the like.
   */
  protected onDispose(): void {
    // Nothing by default.
  }

  /**
   * Load the list (see `LoadMode`).
   *
   * @returns whether this was the newest list load when it ended
   */
  protected async loadList(mode: LoadMode): Promise<boolean> {
    clearTimeout(this._searchTimer);
    const { items } = this._view;
    const more = mode === 'more';
    if (mode !== 'poll') {
      this._patch({ loading: true });
    }
    const page = await this.latest('list', () =>
      this.fetchPage({
        offset: more ? items.length : 0,
        limit: pageLimit(mode, items.length, this._pageSize)
      })
    );
    if (!page) {
      return false;
    }
    if (!page.ok) {
      this._patch({ loading: false, error: page.error });
      return true;
    }
    this._patch({
      items: more
        ? unique([...items, ...page.value.items], item => this.itemKey(item))
        : page.value.items,
      total: page.value.total,
      loaded: true,
      loading: false,
      error: null
    });
    return true;
  }

  /**
   * Load the selected item's detail, keeping what is shown until it comes.
   *
   * @returns the detail, or `null` when none is selected, it failed or a
   *   newer load came first
   */
  protected async loadDetail(
    fetch: (key: TKey) => Promise<TDetail> = key => this.fetchDetail(key)
  ): Promise<TDetail | null> {
    const { selected } = this._view;
    if (selected === null) {
      this.bump('detail');
      this._patch({ detail: null, detailLoading: false, detailError: null });
      return null;
    }
    this._patch({ detailLoading: true });
    const loaded = await this.latest('detail', () => fetch(selected));
    if (!loaded) {
      return null;
    }
    if (!loaded.ok) {
      this._patch({ detailLoading: false, detailError: loaded.error });
      return null;
    }
    this._patch({
      detail: loaded.value,
      detailLoading: false,
      detailError: null
    });
    return loaded.value;
  }

  /**
   * Search: change the state (e.g. the query) and load the list's first
   * page at once, or once typing pauses (`debounce`).
   */
  protected search(
    patch: Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>>,
    debounce: boolean
  ): void {
    this.update(patch);
    clearTimeout(this._searchTimer);
    if (debounce) {
      this._searchTimer = setTimeout(
        () => void this.loadList('first'),
        this._searchDelay
      );
    } else {
      void this.loadList('first');
    }
  }

  /**
   * Fetch a part of the state; only the newest fetch of a part counts.
   *
   * @returns the value or the error, or `null` if a newer fetch of the
   *   same part started meanwhile (the answer is stale)
   */
  protected async latest<T>(
    part: string,
    fetch: () => Promise<T>
  ): Promise<Loaded<T> | null> {
    const isCurrent = this.bump(part);
    let loaded: Loaded<T>;
    try {
      loaded = { ok: true, value: await fetch() };
    } catch (reason) {
      loaded = { ok: false, error: asApiError(reason) };
    }
    return isCurrent() && !this._isDisposed ? loaded : null;
  }

  /**
   * Start a new load of a part, making older ones stale.
   *
   * @returns whether that load is still the newest
   */
  protected bump(part: string): () => boolean {
    const ticket = (this._tickets.get(part) ?? 0) + 1;
    this._tickets.set(part, ticket);
    return () => this._tickets.get(part) === ticket;
  }

  /**
   * Run an action once at a time per `key`, marking it pending and
   * keeping its failure (titled `title`) in `actionError`.
   *
   * @returns what the action returned, or `null` if it failed or was
   *   already running
   */
  protected async act<T>(
    key: string,
    title: string,
    action: () => Promise<T>
  ): Promise<T | null> {
    if (this._view.pending.has(key)) {
      return null;
    }
    this.setPending(key, true);
    this._patch({ actionError: null, notice: null });
    try {
      return await action();
    } catch (reason) {
      this.update(this.failed(title, asApiError(reason)));
      return null;
    } finally {
      this.setPending(key, false);
    }
  }

  /**
   * How an action's failure is kept: by default as `actionError`.
   */
  protected failed(
    title: string,
    error: MlopsApiError
  ): Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>> {
    return { actionError: { title, error } } as unknown as Partial<
      ViewModel.State<TItem, TDetail, TKey, TExtra>
    >;
  }

  /**
   * Mark an action (`key`) in flight or done.
   */
  protected setPending(key: string, on: boolean): void {
    this._patch({ pending: toggled(this._view.pending, key, on) });
  }

  /**
   * Change the state and tell the listeners (nothing once disposed).
   */
  protected update(
    patch: Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>>
  ): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  /**
   * The shared part of the state.
   */
  private get _view(): IViewState<TItem, TDetail, TKey> {
    return this._state as unknown as IViewState<TItem, TDetail, TKey>;
  }

  private _patch(patch: Partial<IViewState<TItem, TDetail, TKey>>): void {
    this.update(
      patch as Partial<ViewModel.State<TItem, TDetail, TKey, TExtra>>
    );
  }

  private _changed = new Signal<
    this,
    ViewModel.State<TItem, TDetail, TKey, TExtra>
  >(this);
  private _isDisposed = false;
  private _pageSize: number;
  private _searchDelay: number;
  private _searchTimer: ReturnType<typeof setTimeout> | undefined;
  private _state: ViewModel.State<TItem, TDetail, TKey, TExtra>;
  private _tickets = new Map<string, number>();
}

export namespace ViewModel {
  /**
   * A view's whole state: the shared part and its own (which may narrow or
   * replace a shared field, e.g. a different `actionError`).
   */
  export type State<TItem, TDetail, TKey, TExtra> = Omit<
    IViewState<TItem, TDetail, TKey>,
    keyof TExtra
  > &
    TExtra;

  export interface IOptions {
    /**
     * Search debounce in ms; defaults to `SEARCH_DELAY`.
     */
    searchDelay?: number;
    /**
     * Items per page; defaults to `PAGE_SIZE`.
     */
    pageSize?: number;
  }
}
