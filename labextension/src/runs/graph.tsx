import * as React from 'react';

import { StageStatus } from './types';
import {
  edgePath,
  fitNodeWidth,
  IPlacedNode,
  layoutGraph
} from './graphLayout';
import { describeStatus, StatusIcon, StatusShapes } from './status';

/**
 * A stage as the graph draws it: a pipeline's stage (no status) or a run's.
 */
export interface IStageNode {
  name: string;
  needs: readonly string[];
  notebook: string;
  status?: StageStatus | null;
  /**
   * The second line: duration, `cached`, cells done...
   */
  info?: string;
  /**
   * Whether clicking opens the stage's executed notebook.
   */
  openable?: boolean;
}

/**
 * Legend labels, in the order the legend lists them.
 */
const LEGEND: [StageStatus, string][] = [
  ['succeeded', 'succeeded'],
  ['cached', 'cached (reused)'],
  ['running', 'running'],
  ['pending', 'pending'],
  ['failed', 'failed'],
  ['interrupted', 'interrupted'],
  ['cancelled', 'cancelled'],
  ['skipped', 'skipped'],
  ['not_selected', 'not selected']
];

/**
 * Roughly how wide a character of a node's label is, in px.
 */
const CHAR_WIDTH = 7;

/**
 * Nodes narrower than this draw a smaller status circle, in px.
 */
const NARROW = 120;

let nextGraphId = 0;

/**
 * A pipeline's or run's stages as a DAG: layers top to bottom, an arrow
 * from each stage to the stages that need it, nodes coloured by status (the
 * theme's colours) and a legend of the statuses shown. Nodes fit the width
 * they are given (sidebar or main area). A node with an executed notebook
 * opens it on click, Enter or Space.
 */
export function StageGraph(props: {
  nodes: readonly IStageNode[];
  label: string;
  onOpen?: (stage: string) => void;
  opening?: (stage: string) => boolean;
}): JSX.Element | null {
  const { nodes, label, onOpen, opening } = props;
  const [available, setAvailable] = React.useState(0);
  const box = React.useRef<HTMLDivElement>(null);
  const [id] = React.useState(() => `jp-mlops-graph-${++nextGraphId}`);
  React.useEffect(() => {
    const element = box.current;
    if (!element || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(entries => {
      const width = entries[0]?.contentRect.width ?? 0;
      if (width > 0) {
        setAvailable(width);
      }
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const graph = React.useMemo(
    () => nodes.map(n => ({ id: n.name, needs: n.needs })),
    [nodes]
  );
  const layout = React.useMemo(() => {
    const breadth = layoutGraph(graph).breadth;
    return layoutGraph(graph, {
      nodeWidth: fitNodeWidth(available, breadth)
    });
  }, [graph, available]);
  if (!nodes.length) {
    return null;
  }
  const byName = new Map(nodes.map(n => [n.name, n]));
  const shown = new Set(nodes.map(n => n.status).filter(Boolean));
  return (
    <div className="jp-mlops-graph" data-testid="mlops-graph" ref={box}>
      <svg
        className="jp-mlops-graph-svg"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label={label}
      >
        <defs>
          <marker
            id={`${id}-arrow`}
            viewBox="0 0 8 8"
            refX="7"
            refY="4"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path className="jp-mlops-graph-arrow" d="M0,0.5 L7.5,4 L0,7.5 z" />
          </marker>
        </defs>
        {layout.edges.map(edge => (
          <path
            key={`${edge.from}->${edge.to}`}
            className="jp-mlops-graph-edge"
            data-testid="mlops-graph-edge"
            data-from={edge.from}
            data-to={edge.to}
            data-status={byName.get(edge.from)?.status ?? undefined}
            d={edgePath(edge.points)}
            markerEnd={`url(#${id}-arrow)`}
          />
        ))}
        {layout.nodes.map(placed => {
          const node = byName.get(placed.id);
          return node ? (
            <GraphNode
              key={placed.id}
              node={node}
              placed={placed}
              busy={opening?.(node.name) ?? false}
              onOpen={onOpen}
            />
          ) : null;
        })}
      </svg>
      {shown.size > 0 && (
        <ul
          className="jp-mlops-graph-legend"
          aria-label="Legend"
          data-testid="mlops-graph-legend"
        >
          {LEGEND.filter(([status]) => shown.has(status)).map(
            ([status, text]) => (
              <li key={status} data-status={status}>
                <StatusIcon status={status} />
                {text}
              </li>
            )
          )}
        </ul>
      )}
    </div>
  );
}

function GraphNode(props: {
  node: IStageNode;
  placed: IPlacedNode;
  busy: boolean;
  onOpen?: (stage: string) => void;
}): JSX.Element {
  const { node, placed, busy, onOpen } = props;
  const { x, y, width, height } = placed;
  const openable = !!node.openable && !!onOpen;
  const status = node.status ?? undefined;
  // The status circle's size and the text's start: smaller in narrow nodes.
  const icon = width < NARROW ? 12 : 16;
  const textX = status ? icon + 14 : 12;
  const chars = Math.max(4, Math.floor((width - textX - 4) / CHAR_WIDTH));
  const tooltip = [
    node.name,
    status ? describeStatus(status) : null,
    node.notebook,
    node.info,
    openable ? 'Click to open the executed notebook' : null
  ]
    .filter(Boolean)
    .join('\n');
  const open = () => {
    if (openable && !busy) {
      onOpen?.(node.name);
    }
  };
  return (
    <g
      className="jp-mlops-graph-node"
      data-testid="mlops-graph-node"
      data-stage={node.name}
      data-status={status}
      data-openable={openable}
      aria-busy={busy}
      transform={`translate(${x},${y})`}
      role={openable ? 'button' : 'img'}
      tabIndex={openable ? 0 : undefined}
      aria-label={tooltip.replace(/\n/g, ', ')}
      onClick={open}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          open();
        }
      }}
    >
      <title>{tooltip}</title>
      <rect
        className="jp-mlops-graph-box"
        width={width}
        height={height}
        rx="6"
      />
      <rect className="jp-mlops-graph-bar" width="4" height={height} rx="2" />
      {status && (
        <g
          className="jp-mlops-status"
          data-status={status}
          transform={`translate(9,${height / 2 - icon / 2}) scale(${icon / 16})`}
        >
          <StatusShapes status={status} />
        </g>
      )}
      <text
        className="jp-mlops-graph-name"
        x={textX}
        y={node.info ? height / 2 - 3 : height / 2 + 4}
      >
        {truncate(node.name, chars)}
      </text>
      {node.info && (
        <text className="jp-mlops-graph-info" x={textX} y={height / 2 + 12}>
          {truncate(node.info, chars + 2)}
        </text>
      )}
    </g>
  );
}

/**
 * `text` cut to `chars` characters, with an ellipsis when cut.
 */
export function truncate(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}
