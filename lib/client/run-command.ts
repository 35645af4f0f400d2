// How tsh and tctl end: a failure is one line on standard error naming what to do, exit 1.
import type { Command } from 'commander';

export async function runCommand(program: Command, name: string): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
