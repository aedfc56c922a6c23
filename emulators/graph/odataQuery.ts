import { badRequest, GraphError } from './graphError';
import { FilterExpr, parseFilter } from './odataFilter';

/** The OData system query options a request carries, parsed and checked. */
export interface ExpandItem {
  property: string;
  filter?: FilterExpr;
}

export interface ODataQuery {
  select?: string[];
  top?: number;
  skip: number;
  filter?: FilterExpr;
  expand: ExpandItem[];
}

const SUPPORTED = new Set(['$select', '$top', '$skip', '$filter', '$expand']);
// Real Graph options this stand-in does not implement; they fail loudly rather than being ignored.
const NOT_IMPLEMENTED = new Set(['$orderby', '$count', '$search', '$skiptoken', '$format']);

function nonNegativeInteger(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`Invalid value '${text}' for query option '${name}'.`);
  return Number(text);
}

/** Splits on commas that are not inside parentheses or quotes. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseExpand(text: string): ExpandItem[] {
  return splitTopLevel(text, ',').map((item) => {
    const open = item.indexOf('(');
    if (open === -1) return { property: item };
    if (!item.endsWith(')')) throw badRequest(`Invalid $expand item '${item}'.`);
    const property = item.slice(0, open).trim();
    const expandItem: ExpandItem = { property };
    for (const option of splitTopLevel(item.slice(open + 1, -1), ';')) {
      const eq = option.indexOf('=');
      const name = option.slice(0, eq).trim().toLowerCase();
      if (name !== '$filter') {
        throw new GraphError(501, 'NotImplemented', `The emulator does not support '${name}' inside $expand.`);
      }
      expandItem.filter = parseFilter(option.slice(eq + 1));
    }
    return expandItem;
  });
}

/** The state tokens of a delta query: read by the delta route itself, refused elsewhere as before. */
const STATE_TOKENS = new Set(['$skiptoken', '$deltatoken']);

export function parseODataQuery(params: URLSearchParams, options: { stateTokens?: boolean } = {}): ODataQuery {
  const query: ODataQuery = { skip: 0, expand: [] };
  for (const [rawName, value] of params) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('$')) continue;
    if (options.stateTokens && STATE_TOKENS.has(name)) continue;
    if (NOT_IMPLEMENTED.has(name)) {
      throw new GraphError(501, 'NotImplemented', `The Graph emulator does not implement '${rawName}'.`);
    }
    if (!SUPPORTED.has(name)) throw badRequest(`Query option '${rawName}' is not allowed.`);
    switch (name) {
      case '$select':
        query.select = value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '$top':
        query.top = nonNegativeInteger(rawName, value);
        break;
      case '$skip':
        query.skip = nonNegativeInteger(rawName, value);
        break;
      case '$filter':
        query.filter = parseFilter(value);
        break;
      case '$expand':
        query.expand = parseExpand(value);
        break;
    }
  }
  return query;
}

export interface Page<T> {
  items: T[];
  nextSkip?: number;
}

/** One page of a listing; Graph caps $top per resource and links to the rest with $skip. */
export function pageOf<T>(items: T[], query: ODataQuery, defaultTop: number, maxTop: number): Page<T> {
  const top = Math.min(query.top ?? defaultTop, maxTop);
  const end = query.skip + top;
  return { items: items.slice(query.skip, end), ...(end < items.length && { nextSkip: end }) };
}

/** The same request URL with $skip moved on, as Graph writes @odata.nextLink. */
export function nextLink(baseUrl: string, path: string, params: URLSearchParams, skip: number): string {
  const next = new URLSearchParams();
  for (const [name, value] of params) if (name.toLowerCase() !== '$skip') next.append(name, value);
  next.set('$skip', String(skip));
  return `${baseUrl}${path}?${next.toString().replace(/%24/g, '$')}`;
}
