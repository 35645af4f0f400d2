// After a usage error, tsh and tctl print the error, the failing command's one usage line and
// where the rest is: the whole help would bury the one line that matters.
import type { Command } from 'commander';

/** "tctl users add": the command's name with those of its parents. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Sets, on `program` and every command under it, the two lines shown after a usage error. */
export function showShortUsageAfterError(program: Command): void {
  const path = commandPath(program);
  // The usage is read here, once every option and argument has been declared.
  program.showHelpAfterError(`Usage: ${path} ${program.usage()}\nRun '${path} --help' for more.`);
  program.commands.forEach(showShortUsageAfterError);
}
