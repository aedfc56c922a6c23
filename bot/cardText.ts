/** What an error may take of a card: enough to act on, never a wall of a stack or an HTML page. */
export const ERROR_CHARS = 300;

// What Teams' Markdown subset (and the renderers' markdown-it) reads as markup: emphasis, links,
// autolinks, headings; a list marker only counts at the start, so only there is it escaped.
const MARKDOWN = /[\\`*_[\]<>#~|]/g;
const LIST_MARKER = /^(\s*)([-+]|\d+\.)(?=\s)/;

/**
 * Text from outside (TeleMessage names, subjects, Graph's errors) for a TextBlock or a FactSet,
 * both of which Teams renders as Markdown: every markup character is escaped, so a name like
 * "[Reset](https://evil.example)" reads as those characters and never becomes a link.
 * Where a template can, it puts such text in a TextRun instead, which no renderer parses.
 */
export function plainText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(MARKDOWN, (c) => `\\${c}`)
    .replace(LIST_MARKER, (_m, space: string, marker: string) => `${space}${marker.replace(/([-+.])/, '\\$1')}`);
}

/** An error as a card shows it: on one line, capped at ERROR_CHARS, ellipsis marking the cut. */
export function cappedError(message: string, max = ERROR_CHARS): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}
