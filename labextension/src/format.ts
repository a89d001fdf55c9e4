const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Format a byte count for people: `0 B`, `512 B`, `1.5 KiB`, `12 MiB`.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '–';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * Format a duration in seconds: `0.4 s`, `12 s`, `3 m 05 s`, `2 h 07 m`.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 10) {
    return `${Math.max(seconds, 0).toFixed(1)} s`;
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return `${whole} s`;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) {
    return `${minutes} m ${pad(whole % 60)} s`;
  }
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} m`;
}

/**
 * Format when something started: the time of day if it was today, else the
 * date and time, in the browser's locale.
 */
export function formatStarted(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const time: Intl.DateTimeFormatOptions = {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  };
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString(undefined, time);
  }
  return date.toLocaleString(undefined, {
    year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/**
 * A date and time to the minute, in the browser's locale, e.g. "Jun 30,
 * 2026, 11:59 PM".
 */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short'
  });
}

/**
 * ANSI escape sequences: CSI (ESC [ ... final byte, e.g. colours), OSC
 * (ESC ] ... BEL or ESC \\) and two-byte escapes.
 */
/* eslint-disable no-control-regex */
const ANSI =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
/* eslint-enable no-control-regex */

/**
 * Remove ANSI escape sequences (colours, cursor moves) from kernel output.
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * Show a parameter value as JSON (strings quoted), `–` when absent.
 */
export function formatValue(value: unknown): string {
  return value === undefined ? '–' : JSON.stringify(value);
}

/**
 * Format a number compactly, keeping enough digits to tell values apart.
 */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return Number(value.toPrecision(6)).toString();
}

/**
 * A metric for reading: 4 significant digits, thousands grouped, no
 * exponent below a million: `0.8523`, `12.35`, `1,234`, `98,766`; `–`
 * when missing.
 */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  const size = Math.abs(value);
  if (size !== 0 && (size >= 1e6 || size < 1e-4)) {
    return value.toExponential(2);
  }
  return new Intl.NumberFormat(undefined, {
    maximumSignificantDigits: size >= 1e4 ? 21 : 4,
    maximumFractionDigits: size >= 1e4 ? 0 : undefined
  }).format(value);
}

/**
 * A change `b - a`, signed: `+4`, `−0.0312`, `0`; `–` when missing.
 */
export function formatDelta(delta: number | null | undefined): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) {
    return '–';
  }
  if (delta === 0) {
    return '0';
  }
  return `${delta > 0 ? '+' : '−'}${formatMetric(Math.abs(delta))}`;
}

/**
 * A change relative to where it started, signed: `+3.8%`, `−50%`; empty
 * when it cannot be said (a missing value, or a start at 0).
 */
export function formatRelativeChange(
  delta: number | null | undefined,
  from: number | null | undefined
): string {
  if (
    delta === null ||
    delta === undefined ||
    from === null ||
    from === undefined ||
    from === 0 ||
    !Number.isFinite(delta / from)
  ) {
    return '';
  }
  const share = (Math.abs(delta) / Math.abs(from)) * 100;
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '';
  return `${sign}${share.toFixed(share >= 10 || share === 0 ? 0 : 1)}%`;
}

/**
 * How long ago something happened: `just now`, `5 min ago`, `3 h ago`,
 * `12 d ago`, else the date; `–` when unknown.
 */
export function formatAge(
  iso: string | null | undefined,
  now: Date = new Date()
): string {
  if (!iso) {
    return '–';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const seconds = (now.getTime() - date.getTime()) / 1000;
  if (seconds < 60) {
    return seconds < -60 ? date.toLocaleDateString() : 'just now';
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  if (seconds < 86400 * 60) {
    return `${Math.floor(seconds / 86400)} d ago`;
  }
  return date.toLocaleDateString();
}

/**
 * A time-to-live in seconds: `30 s`, `15 min`, `6 h`, `7 d`, `1 d 12 h`;
 * `none` when there is none.
 */
export function formatTtl(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds <= 0) {
    return 'none';
  }
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's']
  ];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    } else if (parts.length) {
      break;
    }
  }
  return parts.join(' ');
}

/**
 * A share in [0, 1] as a percentage: `0%`, `0.4%`, `12%`, `100%`.
 */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) {
    return '–';
  }
  const percent = share * 100;
  if (percent === 0 || percent === 100 || (percent >= 10 && percent < 99.5)) {
    return `${Math.round(percent)}%`;
  }
  // Keep 0.4% and 99.7% apart from 0% and 100%.
  return `${Number(percent.toPrecision(percent < 10 ? 2 : 3))}%`;
}

/**
 * The metrics people look at first, in this order; the rest by name.
 */
const PREFERRED_METRICS = [
  'roc_auc',
  'accuracy',
  'f1',
  'pr_auc',
  'r2',
  'rmse',
  'mae'
];

export function byMetric(a: string, b: string): number {
  const rank = (name: string) => {
    const at = PREFERRED_METRICS.indexOf(name);
    return at < 0 ? PREFERRED_METRICS.length : at;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
