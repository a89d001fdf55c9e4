/**
 * A layered (Sugiyama-style) layout of a small DAG, top to bottom: pure
 * functions, no DOM, so the stage graph's geometry is testable on its own.
 *
 * 1. `assignLayers`: each node one layer below the deepest node it needs
 *    (longest path from the sources); a cycle or an unknown name never hangs.
 * 2. `orderLayers`: an edge spanning several layers gets a virtual point in
 *    every layer it crosses, then a few barycenter sweeps (down and up) order
 *    each layer to reduce crossings, keeping ties in the input order.
 * 3. `layoutGraph`: coordinates: layers as rows, each row centred, edges as
 *    polylines through their virtual points.
 */

/**
 * A node to lay out: its id and the ids it depends on (edges `need -> id`).
 */
export interface IGraphNode {
  id: string;
  needs: readonly string[];
}

/**
 * Sizes of the layout, in px.
 */
export interface ILayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /**
   * Horizontal space between two nodes of a layer.
   */
  gapX: number;
  /**
   * Vertical space between two layers.
   */
  gapY: number;
  /**
   * Margin around the drawing.
   */
  margin: number;
}

/**
 * The width of the slot a long edge takes in a layer it crosses.
 */
const VIRTUAL_WIDTH = 8;

export const DEFAULT_LAYOUT: ILayoutOptions = {
  nodeWidth: 136,
  nodeHeight: 44,
  gapX: 16,
  gapY: 32,
  margin: 6
};

/**
 * A placed node: `x`, `y` is its top-left corner.
 */
export interface IPlacedNode {
  id: string;
  layer: number;
  order: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A placed edge from `from` (a need) to `to`: points from the bottom centre
 * of `from` to the top centre of `to`, through one point per crossed layer.
 */
export interface IPlacedEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface IGraphLayout {
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
  width: number;
  height: number;
  /**
   * The most nodes in one layer.
   */
  breadth: number;
}

/**
 * The layer of each node: 0 for nodes that need no known node, else one more
 * than the deepest node they need. Needs naming unknown nodes are ignored; a
 * cycle is cut where it is found.
 */
export function assignLayers(
  nodes: readonly IGraphNode[]
): Map<string, number> {
  const byId = new Map(nodes.map(n => [n.id, n]));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const layer = (id: string): number => {
    const known = layers.get(id);
    if (known !== undefined) {
      return known;
    }
    const node = byId.get(id);
    if (!node || visiting.has(id)) {
      return -1;
    }
    visiting.add(id);
    const parents = node.needs.filter(n => byId.has(n) && n !== id);
    const value = parents.length ? 1 + Math.max(...parents.map(layer)) : 0;
    visiting.delete(id);
    layers.set(id, Math.max(value, 0));
    return Math.max(value, 0);
  };
  nodes.forEach(n => layer(n.id));
  return layers;
}

/**
 * The edges `need -> node` between known nodes, each once, in input order.
 */
export function graphEdges(
  nodes: readonly IGraphNode[]
): { from: string; to: string }[] {
  const ids = new Set(nodes.map(n => n.id));
  const seen = new Set<string>();
  const edges: { from: string; to: string }[] = [];
  for (const node of nodes) {
    for (const need of node.needs) {
      const key = `${need}\u0000${node.id}`;
      if (ids.has(need) && need !== node.id && !seen.has(key)) {
        seen.add(key);
        edges.push({ from: need, to: node.id });
      }
    }
  }
  return edges;
}

/**
 * A virtual point's id: edge `from -> to` crossing `layer`.
 */
export function virtualId(from: string, to: string, layer: number): string {
  return `\u0000${from}\u0000${to}\u0000${layer}`;
}

/**
 * Each layer's slots (node ids and virtual points), ordered to reduce edge
 * crossings by barycenter sweeps.
 */
export function orderLayers(
  nodes: readonly IGraphNode[],
  layers: ReadonlyMap<string, number>,
  sweeps = 4
): string[][] {
  const rows: string[][] = [];
  const put = (id: string, layer: number) => {
    while (rows.length <= layer) {
      rows.push([]);
    }
    rows[layer].push(id);
  };
  nodes.forEach(n => put(n.id, layers.get(n.id) ?? 0));
  // Links between adjacent layers, through virtual points.
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    down.set(a, [...(down.get(a) ?? []), b]);
    up.set(b, [...(up.get(b) ?? []), a]);
  };
  for (const { from, to } of graphEdges(nodes)) {
    const start = layers.get(from) ?? 0;
    const end = layers.get(to) ?? 0;
    let previous = from;
    for (let layer = start + 1; layer < end; layer++) {
      const id = virtualId(from, to, layer);
      put(id, layer);
      link(previous, id);
      previous = id;
    }
    link(previous, to);
  }
  const position = new Map<string, number>();
  const index = () =>
    rows.forEach(row => row.forEach((id, i) => position.set(id, i)));
  index();
  const reorder = (row: string[], neighbours: Map<string, string[]>) => {
    const key = new Map<string, number>();
    row.forEach((id, i) => {
      const linked = (neighbours.get(id) ?? []).map(n => position.get(n) ?? 0);
      key.set(
        id,
        linked.length ? linked.reduce((a, b) => a + b, 0) / linked.length : i
      );
    });
    // A stable sort: ties keep their current order.
    row.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0));
    row.forEach((id, i) => position.set(id, i));
  };
  for (let sweep = 0; sweep < sweeps; sweep++) {
    if (sweep % 2 === 0) {
      rows.slice(1).forEach(row => reorder(row, up));
    } else {
      rows
        .slice(0, -1)
        .reverse()
        .forEach(row => reorder(row, down));
    }
  }
  index();
  return rows;
}

/**
 * Lay a DAG out top to bottom.
 */
export function layoutGraph(
  nodes: readonly IGraphNode[],
  options: Partial<ILayoutOptions> = {}
): IGraphLayout {
  const { nodeWidth, nodeHeight, gapX, gapY, margin } = {
    ...DEFAULT_LAYOUT,
    ...options
  };
  const layers = assignLayers(nodes);
  const rows = orderLayers(nodes, layers);
  const isVirtual = (id: string) => id.startsWith('\u0000');
  // A virtual point takes a narrow slot: room for its edge to pass.
  const slot = (id: string) => (isVirtual(id) ? VIRTUAL_WIDTH : nodeWidth);
  const rowWidth = (row: string[]) =>
    row.reduce((sum, id) => sum + slot(id), 0) +
    Math.max(row.length - 1, 0) * gapX;
  const breadth = Math.max(
    0,
    ...rows.map(row => row.filter(id => !isVirtual(id)).length)
  );
  const inner = Math.max(0, ...rows.map(rowWidth));
  const width = rows.length ? inner + 2 * margin : 0;
  const height = rows.length
    ? rows.length * nodeHeight + (rows.length - 1) * gapY + 2 * margin
    : 0;
  const centre = new Map<string, { x: number; y: number }>();
  const placed: IPlacedNode[] = [];
  rows.forEach((row, layer) => {
    let x = (width - rowWidth(row)) / 2;
    const y = margin + layer * (nodeHeight + gapY);
    row.forEach((id, order) => {
      centre.set(id, { x: x + slot(id) / 2, y: y + nodeHeight / 2 });
      if (!isVirtual(id)) {
        placed.push({
          id,
          layer,
          order,
          x,
          y,
          width: nodeWidth,
          height: nodeHeight
        });
      }
      x += slot(id) + gapX;
    });
  });
  const edges = graphEdges(nodes).map(({ from, to }) => {
    const start = centre.get(from) ?? { x: 0, y: 0 };
    const end = centre.get(to) ?? { x: 0, y: 0 };
    const through: { x: number; y: number }[] = [];
    for (
      let layer = (layers.get(from) ?? 0) + 1;
      layer < (layers.get(to) ?? 0);
      layer++
    ) {
      const point = centre.get(virtualId(from, to, layer));
      if (point) {
        through.push(point);
      }
    }
    return {
      from,
      to,
      points: [
        { x: start.x, y: start.y + nodeHeight / 2 },
        ...through,
        { x: end.x, y: end.y - nodeHeight / 2 }
      ]
    };
  });
  return { nodes: placed, edges, width, height, breadth };
}

/**
 * An SVG path through the points with vertical cubic curves between them.
 */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (!points.length) {
    return '';
  }
  const [first, ...rest] = points;
  let d = `M${round(first.x)},${round(first.y)}`;
  let previous = first;
  for (const point of rest) {
    const middle = (previous.y + point.y) / 2;
    d +=
      ` C${round(previous.x)},${round(middle)}` +
      ` ${round(point.x)},${round(middle)}` +
      ` ${round(point.x)},${round(point.y)}`;
    previous = point;
  }
  return d;
}

/**
 * The node width that fits `breadth` slots into `available` px, between
 * `min` and `max`.
 */
export function fitNodeWidth(
  available: number,
  breadth: number,
  options: { gapX?: number; margin?: number; min?: number; max?: number } = {}
): number {
  const gapX = options.gapX ?? DEFAULT_LAYOUT.gapX;
  const margin = options.margin ?? DEFAULT_LAYOUT.margin;
  const min = options.min ?? 88;
  const max = options.max ?? 168;
  if (breadth <= 0 || !Number.isFinite(available) || available <= 0) {
    return max;
  }
  const fit = (available - 2 * margin - (breadth - 1) * gapX) / breadth;
  return Math.floor(Math.min(max, Math.max(min, fit)));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
