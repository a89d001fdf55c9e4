import {
  assignLayers,
  edgePath,
  fitNodeWidth,
  graphEdges,
  IGraphNode,
  layoutGraph
} from '../src/runs/graphLayout';

const DEMO: IGraphNode[] = [
  { id: 'generate', needs: [] },
  { id: 'features', needs: ['generate'] },
  { id: 'profile', needs: ['generate'] },
  { id: 'train', needs: ['features'] },
  { id: 'evaluate', needs: ['train', 'profile'] }
];

describe('assignLayers', () => {
  it('puts each stage one layer below the deepest stage it needs', () => {
    expect(Object.fromEntries(assignLayers(DEMO))).toEqual({
      generate: 0,
      features: 1,
      profile: 1,
      train: 2,
      evaluate: 3
    });
  });

  it('ignores unknown needs and survives a cycle', () => {
    const layers = assignLayers([
      { id: 'a', needs: ['b', 'missing'] },
      { id: 'b', needs: ['a'] },
      { id: 'c', needs: ['c'] }
    ]);
    expect(layers.size).toBe(3);
    expect(layers.get('c')).toBe(0);
    expect([layers.get('a'), layers.get('b')].sort()).toEqual([0, 1]);
  });
});

describe('graphEdges', () => {
  it('lists each known edge once', () => {
    expect(
      graphEdges([
        { id: 'a', needs: [] },
        { id: 'b', needs: ['a', 'a', 'ghost', 'b'] }
      ])
    ).toEqual([{ from: 'a', to: 'b' }]);
  });
});

describe('layoutGraph', () => {
  const layout = layoutGraph(DEMO, {
    nodeWidth: 100,
    nodeHeight: 40,
    gapX: 10,
    gapY: 20,
    margin: 5
  });
  const node = (id: string) => layout.nodes.find(n => n.id === id)!;

  it('places every stage in rows by layer, without overlaps', () => {
    expect(layout.nodes.map(n => n.id).sort()).toEqual(
      DEMO.map(n => n.id).sort()
    );
    expect(node('generate').y).toBe(5);
    expect(node('evaluate').y).toBe(5 + 3 * 60);
    const row = [node('features'), node('profile')].sort((a, b) => a.x - b.x);
    expect(row[1].x - row[0].x).toBeGreaterThanOrEqual(100 + 10);
    expect(layout.breadth).toBe(2);
    expect(layout.height).toBe(4 * 40 + 3 * 20 + 2 * 5);
    for (const n of layout.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(layout.width);
    }
  });

  it('routes a long edge through a point in every layer it crosses', () => {
    const edge = layout.edges.find(e => e.from === 'profile')!;
    expect(edge.to).toBe('evaluate');
    // profile (layer 1) -> evaluate (layer 3) passes layer 2.
    expect(edge.points).toHaveLength(3);
    expect(edge.points[0].y).toBe(node('profile').y + 40);
    expect(edge.points[2].y).toBe(node('evaluate').y);
    expect(layout.edges).toHaveLength(5);
  });

  it('lays out nothing as an empty drawing', () => {
    expect(layoutGraph([])).toEqual({
      nodes: [],
      edges: [],
      width: 0,
      height: 0,
      breadth: 0
    });
  });
});

describe('edgePath and fitNodeWidth', () => {
  it('draws vertical curves through the points', () => {
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 20 }
      ])
    ).toBe('M0,0 C0,10 10,10 10,20');
    expect(edgePath([])).toBe('');
  });

  it('fits the widest layer into the room, within bounds', () => {
    expect(fitNodeWidth(300, 2, { gapX: 10, margin: 5 })).toBe(140);
    expect(fitNodeWidth(100, 4)).toBe(88);
    expect(fitNodeWidth(2000, 1)).toBe(168);
    expect(fitNodeWidth(0, 3)).toBe(168);
  });
});
