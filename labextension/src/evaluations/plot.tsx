import type { IAxis, IConfig, ILayout, ITrace } from 'plotly.js-basic-dist-min';
import * as React from 'react';

type Plotly = typeof import('plotly.js-basic-dist-min');

/**
 * Bumped on every theme change, so charts redraw in the new colours.
 */
export const ThemeStamp = React.createContext(0);

const CONFIG: IConfig = {
  displayModeBar: false,
  displaylogo: false,
  responsive: false,
  scrollZoom: false
};

let loading: Promise<Plotly> | null = null;

/**
 * plotly.js, loaded the first time a chart is drawn (it is a large bundle
 * of its own, fetched only then).
 */
export function loadPlotly(): Promise<Plotly> {
  if (!loading) {
    loading = import(
      /* webpackChunkName: "plotly" */ 'plotly.js-basic-dist-min'
    ).then(
      module => ((module as { default?: Plotly }).default ?? module) as Plotly
    );
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * A plotly chart in the JupyterLab theme's colours and font, as wide as
 * its container (redrawn when that changes) and `height` pixels high.
 *
 * Colours in traces may be `var(--jp-…)`: they are read from the theme
 * each time the chart is drawn.
 */
export function Plot(props: {
  traces: ITrace[];
  layout?: ILayout;
  height?: number;
  label: string;
  testid: string;
}): JSX.Element {
  const { traces, layout, label, testid } = props;
  const height = props.height ?? 220;
  const ref = React.useRef<HTMLDivElement>(null);
  const stamp = React.useContext(ThemeStamp);
  const [error, setError] = React.useState<string | null>(null);
  const spec = JSON.stringify([traces, layout ?? {}, height]);

  React.useEffect(() => {
    const node = ref.current;
    let live = true;
    if (!node) {
      return;
    }
    loadPlotly()
      .then(plotly => {
        if (!live) {
          return;
        }
        const css = themeReader();
        return plotly.react(
          node,
          traces.map(trace => resolveColors(trace, css)),
          themedLayout(layout ?? {}, height, css),
          CONFIG
        );
      })
      .then(() => {
        if (live) {
          node.dataset.drawn = 'true';
          setError(null);
        }
      })
      .catch(reason => {
        if (live) {
          setError(String(reason));
        }
      });
    return () => {
      live = false;
    };
  }, [spec, stamp]);

  React.useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    let width = node.clientWidth;
    const observer = new ResizeObserver(() => {
      const now = node.clientWidth;
      if (now > 0 && now !== width && node.dataset.drawn) {
        width = now;
        void loadPlotly().then(plotly => plotly.Plots.resize(node));
      }
    });
    observer.observe(node);
    return () => {
      observer.disconnect();
      void loadPlotly().then(plotly => plotly.purge(node));
    };
  }, []);

  return (
    <div className="jp-mlops-plot-frame">
      <div
        ref={ref}
        className="jp-mlops-plot"
        style={{ height }}
        role="img"
        aria-label={label}
        data-testid={testid}
      />
      {error && (
        <p className="jp-mlops-placeholder" role="alert">
          The chart could not be drawn: {error}
        </p>
      )}
    </div>
  );
}

type CssReader = (name: string, fallback: string) => string;

/**
 * Reads the theme's CSS variables as they are now.
 */
function themeReader(): CssReader {
  const style = getComputedStyle(document.body);
  return (name, fallback) => style.getPropertyValue(name).trim() || fallback;
}

/**
 * The caller's layout over the theme's colours, font and compact margins.
 */
function themedLayout(
  layout: ILayout,
  height: number,
  css: CssReader
): ILayout {
  const text = css('--jp-ui-font-color1', '#212121');
  const muted = css('--jp-ui-font-color2', '#616161');
  const axis: IAxis = {
    automargin: true,
    color: muted,
    gridcolor: css('--jp-border-color2', '#e0e0e0'),
    linecolor: css('--jp-border-color1', '#bdbdbd'),
    zerolinecolor: css('--jp-border-color1', '#bdbdbd'),
    title: { font: { size: 11, color: muted } }
  };
  const background = css('--jp-layout-color1', '#ffffff');
  return {
    height,
    autosize: true,
    paper_bgcolor: background,
    plot_bgcolor: background,
    font: {
      family: css('--jp-ui-font-family', 'sans-serif'),
      size: 11,
      color: text
    },
    colorway: [
      css('--jp-brand-color1', '#1976d2'),
      css('--jp-warn-color1', '#f57c00'),
      css('--jp-success-color1', '#388e3c'),
      css('--jp-error-color1', '#d32f2f'),
      css('--jp-info-color1', '#0097a7'),
      css('--jp-ui-font-color2', '#616161')
    ],
    margin: { l: 40, r: 8, t: 8, b: 32 },
    showlegend: true,
    legend: {
      orientation: 'h',
      x: 0,
      y: 1,
      yanchor: 'bottom',
      bgcolor: 'rgba(0,0,0,0)',
      font: { size: 10, color: muted }
    },
    hoverlabel: {
      bgcolor: css('--jp-layout-color2', '#eeeeee'),
      bordercolor: css('--jp-border-color1', '#bdbdbd'),
      font: { color: text }
    },
    ...layout,
    xaxis: mergeAxis(axis, layout.xaxis),
    yaxis: mergeAxis(axis, layout.yaxis)
  };
}

function mergeAxis(theme: IAxis, axis: IAxis | undefined): IAxis {
  return { ...theme, ...axis, title: { ...theme.title, ...axis?.title } };
}

/**
 * `var(--name)` colours of a trace's line, marker and fill, read from the
 * theme.
 */
function resolveColors(trace: ITrace, css: CssReader): ITrace {
  const resolve = (value: unknown): unknown =>
    typeof value === 'string' && value.startsWith('var(')
      ? css(value.slice(4, -1).trim(), 'gray')
      : value;
  const resolved: ITrace = { ...trace };
  for (const part of ['line', 'marker'] as const) {
    const style = trace[part] as Record<string, unknown> | undefined;
    if (style && 'color' in style) {
      resolved[part] = { ...style, color: resolve(style.color) };
    }
  }
  if ('fillcolor' in trace) {
    resolved.fillcolor = resolve(trace.fillcolor);
  }
  return resolved;
}
