// A real terminal for tests of what a person sees at one: a tmux server on a socket of its own
// (so no one's tmux is touched), one window running a command, keys sent as typed, the screen read.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export interface Terminal {
  /** Keys as tmux send-keys takes them: literal text, or names such as Enter, C-c, C-d, BSpace. */
  keys(...keys: string[]): Promise<void>;
  /** Literal text, typed as is. */
  type(text: string): Promise<void>;
  /** The screen (and scrollback) as text; tmux drops the spaces that end a line. */
  screen(): Promise<string>;
  /** Resizes the window, as a person dragging its corner: the program gets SIGWINCH. */
  resize(width: number, height: number): Promise<void>;
  /** The pane's size now, as the program sees it: "COLSxROWS". */
  size(): Promise<string>;
  /** Resolves with the screen once it matches, or fails after timeoutMs showing it. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Waits for a shell's first prompt. kubectl's WebSocket client drops output that arrives before
   * it has registered its streams ("Unknown stream id 1"), which on a busy machine can be the
   * first prompt; when kubectl says so, Enter is pressed once for a fresh prompt, as a user would.
   */
  waitForFirstPrompt(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

const tmux = (socket: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('tmux', ['-L', socket, ...args], (error, stdout, stderr) =>
      error ? reject(new Error(`tmux ${args[0]}: ${stderr}`)) : resolve(stdout),
    ),
  );

let sessions = 0;

/** Runs `command` (a sh command line) in a fresh 100x30 terminal with `env`. */
export async function openTerminal(command: string, env: NodeJS.ProcessEnv): Promise<Terminal> {
  const socket = `kubeport-test-${process.pid}-${sessions++}`;
  const envFlags = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : ['-e', `${k}=${v}`]));
  // The window stays after the command ends, so its last words can still be read.
  await tmux(socket, ['new-session', '-d', '-x', '100', '-y', '30', ...envFlags, `${command}; echo "[exit $?]"; sleep 600`]);
  const screen = () => tmux(socket, ['capture-pane', '-p', '-S', '-200']);
  return {
    keys: async (...keys) => void (await tmux(socket, ['send-keys', ...keys])),
    type: async (text) => void (await tmux(socket, ['send-keys', '-l', text])),
    screen,
    resize: async (width, height) => void (await tmux(socket, ['resize-window', '-x', String(width), '-y', String(height)])),
    size: async () => (await tmux(socket, ['display-message', '-p', '#{pane_width}x#{pane_height}'])).trim(),
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async waitForFirstPrompt(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let pressed = false;
      for (;;) {
        const text = await screen();
        if (pattern.test(text)) return text;
        if (!pressed && /Unknown stream id 1,/.test(text)) {
          pressed = true;
          await tmux(socket, ['send-keys', 'Enter']);
        }
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    // kill-server leaves the socket file behind; a test run would leave one per terminal.
    close: () =>
      tmux(socket, ['kill-server']).then(
        () => removeSocket(socket),
        () => removeSocket(socket),
      ),
  };
}

function removeSocket(socket: string): void {
  const dir = join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  rmSync(join(dir, socket), { force: true });
}
