import { Logger } from '@aws-lambda-powertools/logger';

/** What the core's adapters need of a logger; powertools' Logger satisfies it and tests pass a spy. */
export interface WinbackLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export function createLogger(serviceName = 'winback'): Logger {
  return new Logger({ serviceName });
}

/** For the embedded runtime and tests: keeps warnings and errors, drops the chatter. */
export function createQuietLogger(
  sink: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): WinbackLogger {
  const emit =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      sink(JSON.stringify(Object.assign({ level, message }, ...extra)));
  return { debug: () => {}, info: () => {}, warn: emit('WARN'), error: emit('ERROR') };
}
