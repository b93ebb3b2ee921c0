/**
 * Group commit for a thread that owns an embedded database's writes: every call waiting for the
 * thread runs in one transaction, each call inside a savepoint of its own, and one fsync'd COMMIT
 * makes them all durable before any is answered. A call that fails rolls back only its own
 * changes and gets its own error; a COMMIT that fails (disk full) fails every call in it, and
 * nothing of theirs is on disk.
 *
 * Handlers run synchronously inside the transaction. What must only happen once the data is on
 * disk (moving the log ends) waits for `committed`; `rolledBack` undoes what a handler staged.
 */
import type { Db } from './sqlite.ts';
import { answerCallBatches, type Outcome } from '../thread-calls.ts';

type SyncHandlers = Record<string, (arg: never) => unknown>;

/** Returns the function that sends a notice to every caller of the thread. */
export function answerInGroupCommits(db: Db, handlers: SyncHandlers, hooks: { committed?: () => void; rolledBack?: () => void } = {}): (notice: unknown) => void {
  return answerCallBatches((calls) => {
    const commitAll = db.transaction(() =>
      calls.map((c): Outcome => {
        db.exec('SAVEPOINT call');
        try {
          const handler = handlers[c.op];
          if (!handler) throw new Error(`no such call '${c.op}'`);
          const value = handler(c.arg as never);
          db.exec('RELEASE call');
          return { ok: true, value };
        } catch (error) {
          db.exec('ROLLBACK TO call');
          db.exec('RELEASE call');
          return { ok: false, error };
        }
      }),
    );
    let outcomes: Outcome[];
    try {
      outcomes = commitAll();
    } catch (error) {
      // The COMMIT (or a savepoint) failed: nothing of any call is on disk.
      hooks.rolledBack?.();
      return calls.map(() => ({ ok: false, error }));
    }
    hooks.committed?.();
    return outcomes;
  });
}
