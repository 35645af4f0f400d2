// Text that came from elsewhere (a proxy's error, a code from GitHub) is printed to a terminal:
// control characters in it could move the cursor, rewrite earlier lines or set the window title,
// so they go. Line breaks stay, as some messages list several problems one per line.

/** `text` without C0/C1 control characters other than the line break (each becomes a space). */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ');
}
