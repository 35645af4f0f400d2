// A terminal's cooked mode, as the pseudo-terminal of a container gives it to `kubectl exec -it`:
// kubectl puts the user's terminal in raw mode and sends every key as typed, so echoing and line
// editing happen here. Typed characters are echoed; Enter ends a line (echoed as CR LF);
// Backspace, Ctrl-U and Ctrl-W edit; Ctrl-C discards the line and interrupts; Ctrl-D on an empty
// line is end of input (elsewhere it is ignored, as an interactive shell does); Ctrl-L redraws;
// escape sequences (arrow and function keys) are swallowed rather than echoed as garbage.

export type LineEvent = { kind: 'line'; text: string } | { kind: 'eof' } | { kind: 'interrupt' };

const ERASE = '\b \b';
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export class LineDiscipline {
  private line: string[] = [];
  private escape: 'none' | 'esc' | 'csi' | 'ss3' = 'none';
  /** What Ctrl-L redraws in front of the line being typed. */
  prompt = '';

  constructor(private readonly echo: (text: string) => void) {}

  /** The events the typed text completes, in order; the echo goes out as it is typed. */
  feed(text: string): LineEvent[] {
    const events: LineEvent[] = [];
    for (const char of text) {
      const event = this.key(char);
      if (event) events.push(event);
    }
    return events;
  }

  private key(char: string): LineEvent | undefined {
    if (this.escape !== 'none') return this.inEscape(char);
    switch (char) {
      case '\r':
      case '\n': {
        const text = this.line.join('');
        this.line = [];
        this.echo('\r\n');
        return { kind: 'line', text: `${text}\n` };
      }
      case '\x7f':
      case '\b':
        if (this.line.pop() !== undefined) this.echo(ERASE);
        return undefined;
      case '\x15': // Ctrl-U
        this.echo(ERASE.repeat(this.line.length));
        this.line = [];
        return undefined;
      case '\x17': {
        // Ctrl-W: the spaces before the cursor, then the word.
        const before = this.line.length;
        while (this.line.at(-1) === ' ') this.line.pop();
        while (this.line.length > 0 && this.line.at(-1) !== ' ') this.line.pop();
        this.echo(ERASE.repeat(before - this.line.length));
        return undefined;
      }
      case '\x03': // Ctrl-C
        this.line = [];
        this.echo('^C\r\n');
        return { kind: 'interrupt' };
      case '\x04': // Ctrl-D
        return this.line.length === 0 ? { kind: 'eof' } : undefined;
      case '\x0c': // Ctrl-L
        this.echo(CLEAR_SCREEN + this.prompt + this.line.join(''));
        return undefined;
      case '\x1b':
        this.escape = 'esc';
        return undefined;
    }
    if (char < ' ') return undefined; // other control keys (Tab included) do nothing
    this.line.push(char);
    this.echo(char);
    return undefined;
  }

  private inEscape(char: string): undefined {
    if (this.escape === 'esc') this.escape = char === '[' ? 'csi' : char === 'O' ? 'ss3' : 'none';
    // A CSI sequence ends with a byte in @..~; SS3 (ESC O x) is always one more byte.
    else if (this.escape === 'ss3' || (char >= '@' && char <= '~')) this.escape = 'none';
    return undefined;
  }
}
