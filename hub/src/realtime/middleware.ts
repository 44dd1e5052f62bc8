// Runs express-style `(subject, next)` middleware chains; the first error stops the chain.

/** A middleware: call `next()` to go on, `next(err)` to stop with an error. */
export type Middleware<S, E extends Error = Error> = (subject: S, next: (err?: E) => void) => void;

/** Runs `fns` in order on `subject`, then calls `done` once (with the first error, if any). */
export function runMiddlewares<S, E extends Error>(
  fns: ReadonlyArray<Middleware<S, E>>,
  subject: S,
  done: (err?: E) => void,
): void {
  if (fns.length === 0) return done();
  // A snapshot, so that use() during a run does not change this run.
  const chain = fns.slice();
  const step = (i: number): void => {
    let called = false;
    chain[i]!(subject, (err?: E) => {
      // A middleware calling next twice must not run the rest of the chain twice.
      if (called) return;
      called = true;
      if (err) return done(err);
      if (i + 1 === chain.length) return done();
      step(i + 1);
    });
  };
  step(0);
}
