/** What the agent prints for the site admin: one line per event; a redrawn progress line on a terminal. */
export interface AgentLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string, err?: unknown): void;
  progress(line: string): void;
}

export function consoleLog(site: string, options: { verbose: boolean; plain: boolean }): AgentLog {
  const tty = Boolean(process.stdout.isTTY) && !options.plain;
  let progressShown = false;
  let lastPlainProgress = 0;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const clear = () => {
    if (progressShown) {
      process.stdout.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  return {
    info: (line) => {
      clear();
      console.log(`${stamp()} [${site}] ${line}`);
    },
    warn: (line) => {
      clear();
      console.warn(`${stamp()} [${site}] warning: ${line}`);
    },
    error: (line, err) => {
      clear();
      console.error(`${stamp()} [${site}] error: ${line}`);
      if (options.verbose && err instanceof Error && err.stack) console.error(err.stack);
    },
    progress: (line) => {
      if (tty) {
        process.stdout.write(`\r\x1b[2K${stamp()} [${site}] ${line}`);
        progressShown = true;
      } else if (Date.now() - lastPlainProgress > 2_000) {
        lastPlainProgress = Date.now();
        console.log(`${stamp()} [${site}] ${line}`);
      }
    },
  };
}
