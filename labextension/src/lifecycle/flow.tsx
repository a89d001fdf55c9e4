import * as React from 'react';

import { HealthDot, LinkOr } from './parts';
import {
  arrows,
  flowColumns,
  HEALTH_TEXT,
  IColumn,
  ITEMS_SHOWN,
  loopSpan,
  loopText,
  visibleItems
} from './present';
import { ILifecycle, ILifecycleLink, ILoop, IStep, IStepItem } from './types';

/**
 * The steps left to right, each column a card (two for Deploy & monitor),
 * and the loops back drawn as arrows beneath.
 */
export function Flow(props: {
  lifecycle: ILifecycle;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { lifecycle, openLink } = props;
  const columns = flowColumns(lifecycle);
  return (
    <section className="jp-mlops-lc-flow" aria-label="Lifecycle steps">
      {columns.map((column, i) => (
        <Column key={column.id} column={column} index={i} openLink={openLink} />
      ))}
      {lifecycle.loops.map((loop, i) => (
        <Loop key={loop.id} loop={loop} row={i} openLink={openLink} />
      ))}
    </section>
  );
}

function Column(props: {
  column: IColumn;
  index: number;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { column, index } = props;
  return (
    <div
      className="jp-mlops-lc-column"
      data-column={column.id}
      data-status={column.status}
    >
      <div className="jp-mlops-lc-column-title">
        <span className="jp-mlops-lc-step-number">{index + 1}</span>
        {column.title}
      </div>
      {column.steps.map(step => (
        <StepCard key={step.id} step={step} openLink={props.openLink} />
      ))}
    </div>
  );
}

function StepCard(props: {
  step: IStep;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { step } = props;
  const [expanded, setExpanded] = React.useState(false);
  const { shown, hidden } = visibleItems(step.items, expanded);
  return (
    <article
      className="jp-mlops-lc-step"
      data-testid="mlops-lifecycle-step"
      data-step={step.id}
      data-status={step.status}
    >
      <header className="jp-mlops-lc-step-head">
        <span className="jp-mlops-lc-step-title">{step.title}</span>
        <span className="jp-mlops-lc-health" data-status={step.status}>
          {HEALTH_TEXT[step.status] ?? step.status}
        </span>
      </header>
      <p className="jp-mlops-lc-summary">{step.summary}</p>
      {shown.length > 0 && (
        <ul className="jp-mlops-lc-items">
          {shown.map((item, i) => (
            <Item key={i} item={item} openLink={props.openLink} />
          ))}
        </ul>
      )}
      {(hidden > 0 || expanded) && step.items.length > ITEMS_SHOWN && (
        <button
          type="button"
          className="jp-mlops-lc-link jp-mlops-lc-more"
          data-testid="mlops-lifecycle-more"
          aria-expanded={expanded}
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? 'Show fewer' : `${hidden} more`}
        </button>
      )}
    </article>
  );
}

function Item(props: {
  item: IStepItem;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { item } = props;
  return (
    <li
      className="jp-mlops-lc-item"
      data-testid="mlops-lifecycle-item"
      data-status={item.status}
      data-link-kind={item.link?.kind}
    >
      <HealthDot status={item.status} />
      <div className="jp-mlops-lc-item-text">
        <LinkOr link={item.link} openLink={props.openLink}>
          {item.label}
        </LinkOr>
        {item.detail && (
          <div className="jp-mlops-lc-item-detail" title={item.detail}>
            {item.detail}
          </div>
        )}
      </div>
    </li>
  );
}

/**
 * A loop back as a U-shaped arrow under the columns it joins, labelled with
 * how often it fired and when last.
 */
function Loop(props: {
  loop: ILoop;
  row: number;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { loop } = props;
  const span = loopSpan(loop);
  const style = {
    '--jp-mlops-lc-from': span.start + 1,
    '--jp-mlops-lc-to': span.end + 2,
    '--jp-mlops-lc-row': props.row + 2,
    '--jp-mlops-lc-span': span.end - span.start + 1
  } as React.CSSProperties;
  return (
    <div
      className="jp-mlops-lc-loop"
      data-testid="mlops-lifecycle-loop"
      data-loop={loop.id}
      data-fired={loop.fired}
      data-direction={span.back ? 'back' : 'forward'}
      style={style}
    >
      <div className="jp-mlops-lc-loop-arrow" aria-hidden="true" />
      <div className="jp-mlops-lc-loop-label">
        <LinkOr
          link={loop.link}
          openLink={props.openLink}
          testid="mlops-loop-link"
        >
          {arrows(loop.label)}
        </LinkOr>
        <span className="jp-mlops-lc-loop-count" data-testid="mlops-loop-count">
          {loopText(loop)}
        </span>
      </div>
    </div>
  );
}
