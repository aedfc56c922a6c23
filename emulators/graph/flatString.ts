/**
 * A flat copy of a generated string. V8 keeps the result of concatenation and replace as a
 * tree of pieces; across 200,000 stored messages those trees cost hundreds of megabytes.
 */
export function flatString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
