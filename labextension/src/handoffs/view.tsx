import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { formatAge } from '../format';
import { ListDetail, ListShell, ViewHeader, ViewPanel } from '../listView';
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
export class HandoffsPanel extends ViewPanel<HandoffsModel> {
  constructor(model: HandoffsModel, rendermime: IRenderMimeRegistry | null) {
    super(model, 'Handoffs');
    this._rendermime = rendermime;
  }

  protected renderState(state: IHandoffsState): JSX.Element {
    const model = this.model;
    return (
      <ListDetail
        where={state.selected}
        scroller={this.node}
        detail={() => (
          <HandoffDetail
            model={model}
            state={state}
            rendermime={this._rendermime}
          />
        )}
        list={remember => (
          <HandoffList
            model={model}
            state={state}
            onOpen={id => {
              remember();
              void model.select(id);
            }}
          />
        )}
      />
    );
  }

  private _rendermime: IRenderMimeRegistry | null;
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
    <ListShell
      className="jp-mlops-handoffs-list"
      testid="mlops-handoffs"
      header={
        <ViewHeader
          title="Handoffs"
          refreshTestid="mlops-handoffs-refresh"
          onRefresh={() => void model.refresh()}
        />
      }
      state={state}
      errorTitle="The handoffs could not be loaded"
      feedback={<Feedback model={model} state={state} />}
      shown={state.items.length + newlyChecked.length}
      empty={
        <>
          No notebook handed off yet. Open a notebook and press{' '}
          <strong>Check handoff</strong> in its toolbar, or run{' '}
          <code>mlops-lab handoff NOTEBOOK</code>.
        </>
      }
    >
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
    </ListShell>
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
