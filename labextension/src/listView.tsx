import {
  caretLeftIcon,
  refreshIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { ErrorNotice, Pager } from './components';
import { MlopsApiError } from './request';
import { ShownReactWidget } from './shown';
import { listPhase, scrollTarget } from './viewState';

/**
 * What a view panel needs of its model.
 */
export interface IViewPanelModel<S> {
  readonly state: S;
  readonly changed: ISignal<any, S>;
  refresh(): Promise<void>;
}

/**
 * A sidebar view of a model: a React widget that renders the model's state
 * on every change and refreshes it each time it is shown (`onShown` and
 * `onHidden` may do more, e.g. follow live runs only while shown).
 */
export abstract class ViewPanel<
  M extends IViewPanelModel<S>,
  S = M['state']
> extends ShownReactWidget {
  constructor(model: M, label: string) {
    super();
    this.model = model;
    this.addClass('jp-mlops-panel');
    this.title.label = label;
  }

  readonly model: M;

  protected onShown(): void {
    void this.model.refresh();
  }

  /**
   * The view for one state of the model.
   */
  protected abstract renderState(state: S): JSX.Element;

  protected render(): JSX.Element {
    const model = this.model;
    return (
      <UseSignal signal={model.changed} initialArgs={model.state}>
        {(_, state) => this.renderState(state ?? model.state)}
      </UseSignal>
    );
  }
}

/**
 * The list, or (when `where` is not null) the selected item: opening an
 * item scrolls to the top, going back restores where the list was.
 */
export function ListDetail(props: {
  /**
   * Where the view is: null on the list, else the selected item (and
   * anything else that makes another page, e.g. a version).
   */
  where: string | null;
  scroller: HTMLElement;
  detail: () => JSX.Element;
  list: (remember: () => void) => JSX.Element;
}): JSX.Element {
  const { where, scroller } = props;
  const listScroll = React.useRef(0);
  React.useLayoutEffect(() => {
    scroller.scrollTop = scrollTarget(where, listScroll.current);
  }, [where]);
  if (where !== null) {
    return props.detail();
  }
  return props.list(() => {
    listScroll.current = scroller.scrollTop;
  });
}

/**
 * A view's header: its title (or `start`), then `actions` and Refresh.
 */
export function ViewHeader(props: {
  title?: React.ReactNode;
  start?: React.ReactNode;
  actions?: React.ReactNode;
  className?: string;
  refreshTestid: string;
  refreshTooltip?: string;
  onRefresh: () => void;
}): JSX.Element {
  const refresh = (
    <ToolbarButtonComponent
      icon={refreshIcon}
      tooltip={props.refreshTooltip ?? 'Refresh'}
      dataset={{ testid: props.refreshTestid }}
      onClick={props.onRefresh}
    />
  );
  return (
    <div className={classes('jp-mlops-header', props.className)}>
      {props.start ?? <h2 className="jp-mlops-title">{props.title}</h2>}
      {props.actions ? (
        <div className="jp-mlops-header-actions">
          {props.actions}
          {refresh}
        </div>
      ) : (
        refresh
      )}
    </div>
  );
}

/**
 * The list side of a view: header, `top` (search, filters...), the list's
 * error, `feedback`, Loading…, the empty message, the list (`children`),
 * `bottom` and the pager.
 */
export function ListShell(props: {
  className: string;
  testid: string;
  header: JSX.Element;
  state: {
    loading: boolean;
    loaded: boolean;
    error: MlopsApiError | null;
    items: readonly unknown[];
  };
  errorTitle: string;
  top?: React.ReactNode;
  feedback?: React.ReactNode;
  /**
   * Said when the list is loaded and empty.
   */
  empty: React.ReactNode;
  /**
   * Whether the list counts as empty when it has no item (default true).
   */
  shown?: number;
  pager?: {
    total: number;
    noun: string;
    onMore: () => void;
    countTestid: string;
    moreTestid: string;
  };
  /**
   * Shown after the list, whether it is empty or not.
   */
  bottom?: React.ReactNode;
  data?: Record<string, string | boolean>;
  children: React.ReactNode;
}): JSX.Element {
  const { state, testid, pager } = props;
  const phase = listPhase(state, props.shown);
  const data = Object.fromEntries(
    Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, v])
  );
  return (
    <div
      className={classes('jp-mlops-body', props.className)}
      data-testid={testid}
      aria-busy={state.loading}
      {...data}
    >
      {props.header}
      {props.top}
      {state.error && (
        <ErrorNotice
          error={state.error}
          title={props.errorTitle}
          testid={`${testid}-error`}
        />
      )}
      {props.feedback}
      {phase.busy && <p className="jp-mlops-placeholder">Loading…</p>}
      {phase.empty && (
        <p className="jp-mlops-placeholder" data-testid={`${testid}-empty`}>
          {props.empty}
        </p>
      )}
      {phase.list && props.children}
      {props.bottom}
      {pager && (
        <Pager
          shown={state.items.length}
          total={pager.total}
          noun={pager.noun}
          loading={state.loading}
          onMore={pager.onMore}
          countTestid={pager.countTestid}
          moreTestid={pager.moreTestid}
        />
      )}
    </div>
  );
}

/**
 * The detail side of a view: Back and Refresh (and `actions`), the
 * detail's error, Loading… until it first comes, then `children`.
 */
export function DetailShell(props: {
  className: string;
  testid: string;
  data?: Record<string, string | undefined>;
  busy: boolean;
  headerClassName?: string;
  back: { label: string; tooltip: string; onClick: () => void };
  /**
   * The prefix of the Back, Refresh and error test ids (`-back`...).
   */
  ids: string;
  onRefresh: () => void;
  actions?: React.ReactNode;
  state: {
    detailLoading: boolean;
    detailError: MlopsApiError | null;
  };
  shown: boolean;
  errorTitle: string;
  children: React.ReactNode;
}): JSX.Element {
  const { state, back, ids } = props;
  const data = Object.fromEntries(
    Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, v])
  );
  return (
    <div
      className={classes('jp-mlops-body', props.className)}
      data-testid={props.testid}
      aria-busy={props.busy}
      {...data}
    >
      <div className={classes('jp-mlops-header', props.headerClassName)}>
        <ToolbarButtonComponent
          icon={caretLeftIcon}
          label={back.label}
          tooltip={back.tooltip}
          dataset={{ testid: `${ids}-back` }}
          onClick={back.onClick}
        />
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh"
          dataset={{ testid: `${ids}-refresh` }}
          onClick={props.onRefresh}
        />
        {props.actions}
      </div>
      {state.detailError && (
        <ErrorNotice
          error={state.detailError}
          title={props.errorTitle}
          testid={`${ids}-error`}
        />
      )}
      {!props.shown && state.detailLoading && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {props.shown && props.children}
    </div>
  );
}

function classes(...names: (string | undefined)[]): string {
  return names.filter(Boolean).join(' ');
}
