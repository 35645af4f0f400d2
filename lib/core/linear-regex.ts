// Role regexps run on every request, with values the user controls (names, namespaces, traits),
// so they are matched in linear time by an RE2 engine, never by the backtracking RegExp: an
// expression such as ^([a-z0-9]+-?)+$ would otherwise stall the agent for every user. RE2 is also
// the syntax Teleport accepts, so lookbehind and backreferences are refused when the role is
// written, with the reason, instead of behaving differently here than there.
import { RE2JS } from 're2js';

export interface LinearRegex {
  /** True when the expression matches somewhere in the value (anchors in the expression apply). */
  test(value: string): boolean;
  /** Every match replaced; `$1`, `$<name>` and `$$` in the replacement as String.replace reads them. */
  replaceAll(value: string, replacement: string): string;
}

/** Compiles an RE2 expression; throws an Error whose message says what is wrong with it. */
export function compileLinearRegex(expression: string): LinearRegex {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(expression);
  } catch (error) {
    throw new Error(regexProblem(error));
  }
  return {
    test: (value) => regex.test(value),
    replaceAll: (value, replacement) => regex.matcher(value).replaceAll(replacement),
  };
}

/** RE2's reason, with a hint for the Perl-only forms people reach for. */
function regexProblem(error: unknown): string {
  const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
  const perlOnly = /\(\?<?[=!]|\\[1-9]/.test(reason) || /invalid named capture|unsupported Perl syntax|invalid escape/.test(reason);
  return perlOnly ? `${reason}; roles use RE2 syntax, which has no lookaround or backreferences` : reason;
}
