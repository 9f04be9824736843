/**
 * Progress on stderr for long local runs. On a terminal one line is redrawn in place (bar, counts,
 * rate, ETA); anywhere else (CI, a pipe, a file) each phase prints exactly one line when it ends,
 * so logs stay short and readable. The formatting is pure and tested on its own.
 */

export interface ProgressOut {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface PhaseState {
  label: string;
  /** Work done so far, in `unit`s; with `total`, the bar and ETA follow it. */
  done: number;
  total?: number;
  unit?: string;
  /** Wall seconds since the phase began. */
  elapsed: number;
  /** Anything else worth watching: "1,204 recalls running, 312 messages sent". */
  detail?: string;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** "1 user", "2 users", "1 recall running"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** Thousands separated, as everywhere in the demo's output. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 0.4 s, 12 s, 3 min 05 s. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

export function bar(ratio: number, width = BAR_WIDTH): string {
  const r = Math.min(1, Math.max(0, Number.isFinite(ratio) ? ratio : 0));
  const filled = Math.round(r * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** "1,234 users/s"; empty until there is something to divide. */
export function rate(done: number, seconds: number, unit: string): string {
  if (seconds <= 0 || done <= 0) return '';
  return `${count(done / seconds)} ${unit}/s`;
}

/** Time left at the rate so far; empty when it cannot be told yet. */
export function eta(done: number, total: number | undefined, seconds: number): string {
  if (total === undefined || done <= 0 || seconds <= 0 || done >= total) return '';
  return `ETA ${duration(((total - done) * seconds) / done)}`;
}

/** The redrawn terminal line. */
export function liveLine(s: PhaseState): string {
  const unit = s.unit ?? '';
  const parts = [s.label];
  if (s.total !== undefined) {
    parts.push(bar(s.total === 0 ? 1 : s.done / s.total));
    if (unit) parts.push(`${count(s.done)}/${count(s.total)} ${unit}`);
    else parts.push(`${Math.round((s.total === 0 ? 1 : s.done / s.total) * 100)}%`);
  }
  if (s.detail) parts.push(s.detail);
  const speed = unit ? rate(s.done, s.elapsed, unit) : '';
  if (speed) parts.push(speed);
  const left = eta(s.done, s.total, s.elapsed);
  if (left) parts.push(left);
  else parts.push(duration(s.elapsed));
  return parts.join('  ');
}

/** The one line a finished phase leaves in a log. */
export function finalLine(s: PhaseState): string {
  const unit = s.unit ?? '';
  // Without a unit the total is only a scale for the bar (a share of the day, say): no count to show.
  const what = unit ? `${count(s.done)} ${unit}` : '';
  const speed = unit ? rate(s.done, s.elapsed, unit) : '';
  const tail = [what, s.detail, `${duration(s.elapsed)}${speed ? `, ${speed}` : ''}`].filter(Boolean);
  return `${s.label}: ${tail.join(', ')}`;
}

export class Progress {
  constructor(
    private readonly out: ProgressOut = process.stderr,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get live(): boolean {
    return this.out.isTTY === true;
  }

  phase(label: string, opts: { total?: number; unit?: string } = {}): Phase {
    return new Phase(this.out, this.clock, label, opts.total, opts.unit);
  }
}

export class Phase {
  private done = 0;
  private detail: string | undefined;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private finished = false;

  constructor(
    private readonly out: ProgressOut,
    private readonly clock: () => number,
    private label: string,
    private readonly total: number | undefined,
    private readonly unit: string | undefined,
  ) {
    this.started = clock();
    this.draw(true);
  }

  /** Adds to the work done. */
  tick(n = 1, detail?: string): void {
    this.update(this.done + n, detail);
  }

  /** Sets the work done (and the detail), redrawing at most every 100 ms on a terminal. */
  update(done: number, detail?: string): void {
    this.done = done;
    if (detail !== undefined) this.detail = detail;
    this.draw(false);
  }

  /** Ends the phase: the last redraw stays on screen, or its one line goes to the log. */
  finish(detail?: string, label?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (detail !== undefined) this.detail = detail;
    if (label !== undefined) this.label = label;
    const state = this.state();
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${fitWidth(finalLine(state), this.out.columns)}\n`);
    else this.out.write(`${finalLine(state)}\n`);
  }

  private state(): PhaseState {
    return {
      label: this.label,
      done: this.done,
      total: this.total,
      unit: this.unit,
      elapsed: (this.clock() - this.started) / 1000,
      detail: this.detail,
    };
  }

  private draw(force: boolean): void {
    if (!this.out.isTTY || this.finished) return;
    const now = this.clock();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.out.write(`\r\x1b[2K${fitWidth(liveLine(this.state()), this.out.columns)}`);
  }
}

function fitWidth(line: string, columns: number | undefined): string {
  return columns && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line;
}
