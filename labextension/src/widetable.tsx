import * as React from 'react';

/**
 * A table wider than the panel: fixed layout (each column keeps its width,
 * so a name is never wrapped one letter per line), cells cut with an
 * ellipsis, horizontal scroll, and the first column (the row's name)
 * sticky while scrolling. Used by the parameters, metrics, slices,
 * variants and comparison tables.
 *
 * `columns` is the number of columns; the table is at least `first` plus
 * `column` per other column wide, else the panel's width.
 */
export function WideTable(props: {
  columns: number;
  label: string;
  first?: string;
  column?: string;
  className?: string;
  testid?: string;
  children: React.ReactNode;
}): JSX.Element {
  const first = props.first ?? '9em';
  const column = props.column ?? '6.5em';
  const others = Math.max(props.columns - 1, 0);
  const style = {
    '--jp-mlops-wide-first': first,
    minWidth: `calc(${first} + ${others} * ${column})`
  } as React.CSSProperties;
  return (
    <div
      className="jp-mlops-wide"
      role="region"
      aria-label={props.label}
      tabIndex={0}
    >
      <table
        className={`jp-mlops-table jp-mlops-wide-table ${props.className ?? ''}`.trim()}
        aria-label={props.label}
        data-testid={props.testid}
        style={style}
      >
        <colgroup>
          <col className="jp-mlops-wide-first" />
          {Array.from({ length: others }, (_, i) => (
            <col key={i} />
          ))}
        </colgroup>
        {props.children}
      </table>
    </div>
  );
}

/**
 * Characters of a long value shown before it is cut.
 */
const SHOWN_CHARS = 48;

/**
 * A value that may be long (a list of features, a JSON object): cut to one
 * line with an expand control; expanded, it wraps in its column.
 */
export function LongValue(props: {
  text: string;
  limit?: number;
}): JSX.Element {
  const { text } = props;
  const limit = props.limit ?? SHOWN_CHARS;
  const [open, setOpen] = React.useState(false);
  if (text.length <= limit) {
    return (
      <code className="jp-mlops-long" title={text}>
        {text}
      </code>
    );
  }
  return (
    <span className="jp-mlops-long-wrap" data-expanded={open}>
      <code className="jp-mlops-long" title={open ? undefined : text}>
        {open ? text : `${text.slice(0, limit)}…`}
      </code>
      <button
        type="button"
        className="jp-mlops-link jp-mlops-long-toggle"
        data-testid="mlops-long-toggle"
        aria-expanded={open}
        title={open ? 'Show less' : `Show all ${text.length} characters`}
        onClick={() => setOpen(!open)}
      >
        {open ? 'less' : 'more'}
      </button>
    </span>
  );
}
