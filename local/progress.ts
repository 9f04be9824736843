/** A progress line on stderr: redrawn in place on a terminal, every 10% otherwise (CI logs stay short). */
export class ProgressBar {
  private done = 0;
  private lastDecile = -1;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(n = 1): void {
    this.done += n;
    const ratio = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(
        `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${this.rate()}`,
      );
    } else {
      const decile = Math.floor(ratio * 10);
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        this.out.write(
          `${this.label}: ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} (${decile * 10}%)\n`,
        );
      }
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }

  private rate(): string {
    const seconds = (Date.now() - this.started) / 1000;
    return seconds > 0 ? `${Math.round(this.done / seconds).toLocaleString('en-US')}/s` : '';
  }
}
