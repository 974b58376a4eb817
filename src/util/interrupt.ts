/**
 * What a long command says when it is stopped with Ctrl-C (SIGINT) or a
 * SIGTERM: where its finished work lies and how to go on. Checkpoints and
 * cache files are written synchronously (temp file, then rename), so a signal
 * handled between two JavaScript tasks never leaves one half-written.
 */

/** Exit status of a process stopped by a signal, as shells report it. */
const statusOf: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

let current: (() => string) | null = null;
let installed = false;

/**
 * From now on a SIGINT or SIGTERM prints `message()` on stderr and exits with
 * 130 or 143. A later call replaces the message; the returned function
 * withdraws this one (the signal then only names itself).
 */
export function onInterrupt(message: () => string): () => void {
  current = message;
  if (!installed) {
    installed = true;
    for (const signal of Object.keys(statusOf)) {
      process.on(signal, () => stop(signal));
    }
  }
  return () => {
    if (current === message) current = null;
  };
}

function stop(signal: string): never {
  const text = current === null ? `stopped by ${signal}` : current();
  process.stderr.write(`\n${text}\n`);
  process.exit(statusOf[signal]);
}
