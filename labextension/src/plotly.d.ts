/**
 * The part of plotly.js (the basic bundle: scatter, bar, pie) the charts
 * use. The `@types` package describes the whole library (and an older
 * version); this is all the code here relies on.
 */
declare module 'plotly.js-basic-dist-min' {
  export type Datum = number | string | null;

  /**
   * A trace: `type` `scatter` or `bar` here; other keys as plotly.js names
   * them (`mode`, `line`, `marker`, `fill`, `hovertemplate`, ...).
   */
  export interface ITrace {
    type: 'scatter' | 'bar';
    x: Datum[];
    y: Datum[];
    name?: string;
    mode?: string;
    [key: string]: unknown;
  }

  export interface IAxis {
    title?: { text?: string; standoff?: number; [key: string]: unknown };
    range?: [number, number];
    [key: string]: unknown;
  }

  export interface ILayout {
    xaxis?: IAxis;
    yaxis?: IAxis;
    [key: string]: unknown;
  }

  export interface IConfig {
    displayModeBar?: boolean;
    displaylogo?: boolean;
    responsive?: boolean;
    scrollZoom?: boolean;
    [key: string]: unknown;
  }

  export function react(
    root: HTMLElement,
    data: ITrace[],
    layout?: ILayout,
    config?: IConfig
  ): Promise<HTMLElement>;

  export function purge(root: HTMLElement): void;

  export const Plots: {
    resize(root: HTMLElement): Promise<void>;
  };
}
