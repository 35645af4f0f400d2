// The demo shell's command lines: words with quotes, backslashes and $NAME / ${NAME} / $?
// expansion, commands separated by ';', and '#' comments. Pipes, redirections, background jobs
// and command substitution are refused with a message rather than half-done.

export type Parsed = { commands: string[][] } | { error: string };

const UNSUPPORTED = new Set(['|', '&', '<', '>', '`']);

export function parseLine(line: string, variables: (name: string) => string): Parsed {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined; // undefined: between words ('' is an empty quoted word)
  let quote: "'" | '"' | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      const next = line[++i]!;
      if (next !== '\n') word = (word ?? '') + next;
      continue;
    }
    if (c === '$') {
      const rest = line.slice(i + 1);
      if (rest.startsWith('(')) return { error: 'sh: $(...) is not supported by the demo shell; type help' };
      const name = /^(\?|[A-Za-z_]\w*|\{[A-Za-z_]\w*\})/.exec(rest)?.[0];
      if (name) {
        word = (word ?? '') + variables(name.replace(/[{}]/g, ''));
        i += name.length;
      } else word = (word ?? '') + c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') endWord();
    else if (c === ';') {
      endWord();
      commands.push(words);
      words = [];
    } else if (c === '#' && word === undefined) break;
    else if (UNSUPPORTED.has(c))
      return { error: `sh: '${c}' is not supported by the demo shell (one built-in command at a time); type help` };
    else word = (word ?? '') + c;
  }
  if (quote) return { error: 'sh: syntax error: unterminated quoted string' };
  endWord();
  commands.push(words);
  return { commands: commands.filter((c) => c.length > 0) };
}
