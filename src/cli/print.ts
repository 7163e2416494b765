/**
 * Prints a command's output and the newline that ends it, as two writes: `text + '\n'` would make
 * V8 copy the whole text into a new string first, and a 32,768-entry report is 11 MB of JSON.
 */
export function printLine(text: string): void {
  process.stdout.write(text);
  process.stdout.write('\n');
}
