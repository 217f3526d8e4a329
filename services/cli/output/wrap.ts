/** The width to wrap to: the terminal's columns, else COLUMNS, else 100. */
export function terminalWidth(env: Readonly<Record<string, string | undefined>>, columns?: number): number {
  if (columns && columns > 20) return columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isFinite(fromEnv) && fromEnv > 20 ? fromEnv : 100;
}

/** Wraps text to width (words kept whole where they fit), every line prefixed with indent; nothing is cut. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const room = Math.max(20, width - indent.length);
  const out: string[] = [];
  for (const para of text.split(/\r?\n/)) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      for (let w = word; w.length; ) {
        const candidate = line ? `${line} ${w}` : w;
        if (candidate.length <= room) {
          line = candidate;
          w = '';
        } else if (line) {
          out.push(line);
          line = '';
        } else {
          out.push(w.slice(0, room));
          w = w.slice(room);
        }
      }
    }
    if (line) out.push(line);
  }
  return out.map((l) => indent + l);
}
