// Opens a URL in the person's browser: $BROWSER when set (the convention many Unix tools share;
// its first entry, a program that takes the URL as its argument), else the platform's opener.
// Best effort: the URL is printed too, so a missing opener or a machine without a desktop is not
// an error. The URL goes as one argument to a program, never through a shell.
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';

export type BrowserOpener = (url: string) => void;

/** The program and arguments that open `url` here; undefined when there is nothing to open it with. */
export function browserCommand(
  url: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): { command: string; args: string[] } | undefined {
  const chosen = env.BROWSER?.split(delimiter).find((entry) => entry.trim() !== '');
  if (chosen) return { command: chosen.trim(), args: [url] };
  // `start` lives inside cmd.exe, which would read the URL's `&` as a command separator;
  // rundll32's URL handler is what `start` ends up calling, without a shell in between.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // Without a desktop (an SSH session), xdg-open would start a text browser that fights tsh
  // for the terminal; the printed URL is the way in there.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return { command: 'xdg-open', args: [url] };
}

export function systemBrowserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserOpener {
  return (url) => {
    const opener = browserCommand(url, env, platform);
    if (!opener) return;
    const { command, args } = opener;
    try {
      const child = spawn(command, args, { stdio: 'ignore', detached: true });
      // No opener installed (ENOENT) and the like: the printed URL is the way in.
      child.on('error', () => undefined);
      child.unref();
    } catch {
      // spawn throws synchronously only for unusable arguments; the printed URL still works.
    }
  };
}
