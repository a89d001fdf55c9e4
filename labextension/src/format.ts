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
