import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  refreshIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatAge } from '../format';
import { ShownReactWidget } from '../shown';
import { Feedback, HandoffDetail } from './detail';
import { Counts, StatusBadge } from './findings';
import { HandoffsModel, IHandoffsState } from './model';
import { IHandoff } from './types';

/**
 * The Handoffs view of the MLOps sidebar: a view of a `HandoffsModel`.
 *
 * The list holds the latest check of each handed-off notebook; one shows
 * its findings by check, the metrics comparison, contract and report.
 */
export class HandoffsPanel extends ShownReactWidget {
  constructor(model: HandoffsModel, rendermime: IRenderMimeRegistry | null) {
    super();
    this._model = model;
    this._rendermime = rendermime;
    this.addClass('jp-mlops-panel');
    this.title.label = 'Handoffs';
  }

  protected onShown(): void {
    void this._model.refresh();
  }

  protected render(): JSX.Element {
    const model = this._model;
    return (
      <UseSignal signal={model.stateChanged} initialArgs={model.state}>
        {(_, state) => (
          <HandoffsView
            model={model}
            state={state ?? model.state}
            scroller={this.node}
            rendermime={this._rendermime}
          />
        )}
      </UseSignal>
    );
  }

  private _model: HandoffsModel;
  private _rendermime: IRenderMimeRegistry | null;
}

/**
 * The list or a handoff; going back restores where the list was scrolled.
 */
function HandoffsView(props: {
  model: HandoffsModel;
  state: IHandoffsState;
  scroller: HTMLElement;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { model, state, scroller } = props;
  const listScroll = React.useRef(0);
  React.useLayoutEffect(() => {
    scroller.scrollTop = state.selected === null ? listScroll.current : 0;
  }, [state.selected]);
  if (state.selected !== null) {
    return (
      <HandoffDetail
        model={model}
        state={state}
        rendermime={props.rendermime}
      />
    );
  }
  const open = (id: string) => {
    listScroll.current = scroller.scrollTop;
    void model.select(id);
  };
  return <HandoffList model={model} state={state} onOpen={open} />;
}

function HandoffList(props: {
  model: HandoffsModel;
  state: IHandoffsState;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { model, state, onOpen } = props;
  const listed = new Set(state.items.map(h => h.notebook));
  const newlyChecked = [...state.checking].filter(nb => !listed.has(nb));
  return (
    <div
      className="jp-mlops-body jp-mlops-handoffs-list"
      data-testid="mlops-handoffs"
      aria-busy={state.loading}
    >
      <div className="jp-mlops-header">
        <h2 className="jp-mlops-title">Handoffs</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh"
          dataset={{ testid: 'mlops-handoffs-refresh' }}
          onClick={() => void model.refresh()}
        />
      </div>
      {state.error && (
        <ErrorNotice
          error={state.error}
          title="The handoffs could not be loaded"
          testid="mlops-handoffs-error"
        />
      )}
      <Feedback model={model} state={state} />
      {state.loading && !state.loaded && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {state.loaded && !state.items.length && !newlyChecked.length && (
        <p className="jp-mlops-placeholder" data-testid="mlops-handoffs-empty">
          No notebook handed off yet. Open a notebook and press{' '}
          <strong>Check handoff</strong> in its toolbar, or run{' '}
          <code>mlops-lab handoff NOTEBOOK</code>.
        </p>
      )}
      {(state.items.length > 0 || newlyChecked.length > 0) && (
        <ul className="jp-mlops-handoff-list" aria-label="Handoffs">
          {newlyChecked.map(notebook => (
            <li
              key={notebook}
              className="jp-mlops-handoff-row"
              data-testid="mlops-handoff-checking"
              data-notebook={notebook}
            >
              <span className="jp-mlops-handoff-open">
                <span className="jp-mlops-handoff-row-main">
                  <span className="jp-mlops-handoff-row-name">{notebook}</span>
                </span>
                <span className="jp-mlops-handoff-row-meta">
                  <span className="jp-mlops-handoff-spinner" /> Checking…
                </span>
              </span>
            </li>
          ))}
          {state.items.map(handoff => (
            <HandoffRow
              key={handoff.id}
              handoff={handoff}
              checking={state.checking.has(handoff.notebook)}
              onOpen={onOpen}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * One notebook: its path, status, stage and when it was checked, and its
 * pass/warn/fail counts.
 */
function HandoffRow(props: {
  handoff: IHandoff;
  checking: boolean;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { handoff, checking, onOpen } = props;
  return (
    <li
      className="jp-mlops-handoff-row"
      data-testid="mlops-handoff-row"
      data-notebook={handoff.notebook}
      data-handoff-id={handoff.id}
    >
      <button
        type="button"
        className="jp-mlops-handoff-open"
        title={`Show the handoff of ${handoff.notebook}`}
        onClick={() => onOpen(handoff.id)}
      >
        <span className="jp-mlops-handoff-row-main">
          <span className="jp-mlops-handoff-row-name">{handoff.notebook}</span>
          <StatusBadge status={handoff.status} />
        </span>
        <span className="jp-mlops-handoff-row-meta">
          {checking ? (
            <>
              <span className="jp-mlops-handoff-spinner" /> Checking…
            </>
          ) : (
            <>
              {handoff.pipeline}/{handoff.stage}
              <span className="jp-mlops-meta-sep">·</span>
              <time dateTime={handoff.created_at}>
                {formatAge(handoff.created_at)}
              </time>
            </>
          )}
        </span>
        <Counts counts={handoff.counts} />
      </button>
    </li>
  );
}
