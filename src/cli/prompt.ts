import { createInterface } from 'node:readline';

/** How a person answered a yes/no question: Ctrl-C and Ctrl-D (end of input) are answers too. */
export type Answer = 'yes' | 'no' | 'interrupted' | 'closed';

/**
 * Asks on stderr and reads one line from stdin. Ctrl-C answers 'interrupted' and end of input
 * 'closed', so a caller can say plainly that nothing was written (readline/promises would reject
 * with an AbortError instead, which surfaced as an internal error).
 */
export function ask(question: string): Promise<Answer> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    let answered = false;
    const finish = (answer: Answer): void => {
      if (answered) return;
      answered = true;
      process.removeListener('SIGINT', onSignal);
      rl.close();
      resolve(answer);
    };
    const onSignal = (): void => finish('interrupted');
    process.once('SIGINT', onSignal); // a SIGINT from outside the terminal (kill -INT) while asking
    rl.on('SIGINT', onSignal);
    rl.on('close', () => finish('closed'));
    rl.question(question, (line) => finish(/^y(es)?$/i.test(line.trim()) ? 'yes' : 'no'));
  });
}
