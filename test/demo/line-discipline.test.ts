// The demo terminal's cooked mode, key by key: what is echoed and which lines, ends and
// interrupts come out.
import { describe, expect, it } from 'vitest';
import { LineDiscipline } from '../../lib/demo/shell/line-discipline.js';

function typed(keys: string) {
  let echoed = '';
  const discipline = new LineDiscipline((text) => (echoed += text));
  discipline.prompt = '$ ';
  const events = discipline.feed(keys);
  return { echoed, events };
}

describe('the demo line discipline', () => {
  it('echoes keys and ends a line on Enter with CR LF', () => {
    expect(typed('echo hi\r')).toEqual({ echoed: 'echo hi\r\n', events: [{ kind: 'line', text: 'echo hi\n' }] });
  });

  it('edits with Backspace, Ctrl-W and Ctrl-U, erasing on screen what it drops', () => {
    expect(typed('ab\x7fc\r')).toEqual({ echoed: 'ab\b \bc\r\n', events: [{ kind: 'line', text: 'ac\n' }] });
    expect(typed('one two\x17three\r').events).toEqual([{ kind: 'line', text: 'one three\n' }]);
    expect(typed('gone\x15kept\r')).toEqual({
      echoed: `gone${'\b \b'.repeat(4)}kept\r\n`,
      events: [{ kind: 'line', text: 'kept\n' }],
    });
    // Backspace on an empty line erases nothing, not even the prompt.
    expect(typed('\x7f\x7f').echoed).toBe('');
  });

  it('erases a whole character, not a byte of it', () => {
    expect(typed('hé\x7f\r').events).toEqual([{ kind: 'line', text: 'h\n' }]);
  });

  it('turns Ctrl-C into an interrupt that drops the line, and Ctrl-D on an empty line into end of input', () => {
    expect(typed('abc\x03')).toEqual({ echoed: 'abc^C\r\n', events: [{ kind: 'interrupt' }] });
    expect(typed('\x04').events).toEqual([{ kind: 'eof' }]);
    // Ctrl-D with text on the line does nothing, as in an interactive shell.
    expect(typed('ab\x04\r').events).toEqual([{ kind: 'line', text: 'ab\n' }]);
  });

  it('swallows arrow and function keys instead of echoing escape codes', () => {
    expect(typed('a\x1b[A\x1b[1;5C\x1bOPb\r')).toEqual({ echoed: 'ab\r\n', events: [{ kind: 'line', text: 'ab\n' }] });
  });

  it('redraws the prompt and the line on Ctrl-L', () => {
    expect(typed('ls\x0c').echoed).toBe('ls\x1b[H\x1b[2J$ ls');
  });
});
