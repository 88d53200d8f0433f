// The interactive mode's output: whole lines printed above the line being
// typed, so incoming messages never garble the prompt or the text under edit.

import { clearScreenDown, cursorTo, moveCursor, type Interface } from "node:readline";
import { formatError, formatNotice, type Style } from "./render.ts";

/** Prints whole lines above the line being typed: clear it, print, redraw the prompt and the typed text. */
export class Screen {
  readonly rl: Interface;
  readonly style: Style;
  /** True while the chat prompt is shown (not during the startup questions). */
  isPrompting = false;

  constructor(rl: Interface, style: Style) {
    this.rl = rl;
    this.style = style;
  }

  print(text: string): void {
    const out = process.stdout;
    if (!this.isPrompting) {
      out.write(text + "\n");
      return;
    }
    // Go to the first row of the prompt (the typed text may wrap), clear to the
    // end of the screen, print, then draw the prompt and the typed text again
    // and put the cursor back where it was within them. The layout readline
    // knows is unchanged, only moved down, so its own redraws stay right.
    const rl = this.rl;
    const at = rl.getCursorPos();
    if (at.rows > 0) moveCursor(out, 0, -at.rows);
    cursorTo(out, 0);
    clearScreenDown(out);
    out.write(`${text}\n${rl.getPrompt()}${rl.line}`);
    const end = endOfInput(rl);
    // At an exact multiple of the width the terminal waits to wrap; make it wrap now.
    if (end.cols === 0 && end.rows > 0) out.write(" \r");
    moveCursor(out, at.cols - end.cols, at.rows - end.rows);
    // Bun 1.4.5's readline does not update its private row count when typed
    // text wraps, so its next redraw climbs too few rows; tell it the truth.
    const internal = rl as unknown as { prevRows?: number };
    if (typeof internal.prevRows === "number") internal.prevRows = at.rows;
  }

  notice(text: string): void {
    this.print(formatNotice(text, this.style));
  }

  error(text: string): void {
    this.print(formatError(text, this.style));
  }
}

/** Where the cursor is after the prompt and the whole typed line, as readline counts rows and columns. */
function endOfInput(rl: Interface): { rows: number; cols: number } {
  // getCursorPos() measures up to the cursor; measure up to the end instead.
  const editable = rl as { cursor: number };
  const cursor = editable.cursor;
  editable.cursor = rl.line.length;
  const end = rl.getCursorPos();
  editable.cursor = cursor;
  return end;
}
