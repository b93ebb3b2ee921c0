/** Command-line value parsers shared by the CLIs (commander), so each rule and its message is written once. */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from './duration.ts';

export const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

/** A duration like 500ms, 30s, 5m, 3h; `0` when `allowZero`. */
export const duration =
  (allowZero = false) =>
  (v: string) => {
    const ms = allowZero && v === '0' ? 0 : parseDuration(v);
    if (ms === undefined) throw new InvalidArgumentError(`expected a duration like ${allowZero ? '0, ' : ''}500ms, 30s, 5m, 3h`);
    return ms;
  };
