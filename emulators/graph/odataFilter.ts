import { badRequest } from './graphError';

/**
 * The subset of OData $filter that Graph's mail and directory endpoints accept and the product
 * uses: comparisons, and/or/not, parentheses and any()/all() lambdas over collections.
 */
export type FilterLiteral = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean } | { kind: 'null' } | { kind: 'datetime'; value: number };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterExpr =
  | { kind: 'compare'; op: CompareOp; path: string[]; literal: FilterLiteral }
  | { kind: 'in'; path: string[]; literals: FilterLiteral[] }
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'lambda'; quantifier: 'any' | 'all'; collection: string[]; variable: string; predicate: FilterExpr };

type Token = { kind: 'path'; segments: string[] } | { kind: 'literal'; literal: FilterLiteral } | { kind: 'punct'; value: '(' | ')' | ':' | ',' };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
/** Graph limits a filter clause to 15 expressions by default; each value of an `in` list is one. */
export const MAX_IN_VALUES = 15;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const invalidFilter = (detail: string) => badRequest(`Invalid filter clause: ${detail}`, 'BadRequest');

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ':' || ch === ',') {
      tokens.push({ kind: 'punct', value: ch });
      i++;
    } else if (ch === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalidFilter('unterminated string literal');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'literal', literal: { kind: 'string', value } });
    } else if (/[0-9-]/.test(ch)) {
      const match = /^-?[0-9][0-9A-Za-z.:+-]*/.exec(text.slice(i));
      if (!match) throw invalidFilter(`unexpected '${ch}'`);
      tokens.push({ kind: 'literal', literal: numberOrDate(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_@]/.test(ch)) {
      const match = /^[A-Za-z_@][A-Za-z0-9_.@]*(\/[A-Za-z_][A-Za-z0-9_.]*)*/.exec(text.slice(i));
      if (!match) throw invalidFilter(`unexpected '${ch}'`);
      tokens.push(wordToken(match[0]));
      i += match[0].length;
    } else {
      throw invalidFilter(`unexpected '${ch}'`);
    }
  }
  return tokens;
}

function numberOrDate(text: string): FilterLiteral {
  if (/^-?\d+(\.\d+)?$/.test(text)) return { kind: 'number', value: Number(text) };
  if (ISO_DATETIME.test(text)) return { kind: 'datetime', value: Date.parse(text) };
  throw invalidFilter(`'${text}' is not a number or a date`);
}

function wordToken(word: string): Token {
  switch (word) {
    case 'true':
    case 'false':
      return { kind: 'literal', literal: { kind: 'boolean', value: word === 'true' } };
    case 'null':
      return { kind: 'literal', literal: { kind: 'null' } };
    default:
      return { kind: 'path', segments: word.split('/') };
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterExpr {
    const expr = this.or();
    if (this.pos < this.tokens.length) throw invalidFilter('unexpected trailing input');
    return expr;
  }

  private or(): FilterExpr {
    let left = this.and();
    while (this.keyword('or')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): FilterExpr {
    let left = this.unary();
    while (this.keyword('and')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): FilterExpr {
    if (this.keyword('not')) return { kind: 'not', expr: this.unary() };
    return this.primary();
  }

  private primary(): FilterExpr {
    const token = this.next();
    if (token?.kind === 'punct' && token.value === '(') {
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    if (token?.kind !== 'path') throw invalidFilter('expected a property');
    const last = token.segments[token.segments.length - 1].toLowerCase();
    if ((last === 'any' || last === 'all') && token.segments.length > 1 && this.peekPunct('(')) {
      this.pos++;
      const variable = this.next();
      if (variable?.kind !== 'path' || variable.segments.length !== 1) throw invalidFilter('expected a lambda variable');
      this.expectPunct(':');
      const predicate = this.or();
      this.expectPunct(')');
      return {
        kind: 'lambda',
        quantifier: last,
        collection: token.segments.slice(0, -1),
        variable: variable.segments[0],
        predicate,
      };
    }
    const op = this.next();
    if (op?.kind === 'path' && op.segments.length === 1 && op.segments[0] === 'in') return this.inList(token.segments);
    if (op?.kind !== 'path' || op.segments.length !== 1 || !COMPARE_OPS.has(op.segments[0])) {
      throw invalidFilter(`expected a comparison after '${token.segments.join('/')}'`);
    }
    const literal = this.next();
    if (literal?.kind !== 'literal') throw invalidFilter('expected a literal value');
    return { kind: 'compare', op: op.segments[0] as CompareOp, path: token.segments, literal: literal.literal };
  }

  /** `path in ('a', 'b')`: a list of literals in parentheses. */
  private inList(path: string[]): FilterExpr {
    this.expectPunct('(');
    const literals: FilterLiteral[] = [];
    for (;;) {
      const literal = this.next();
      if (literal?.kind !== 'literal') throw invalidFilter("expected a literal value in the 'in' list");
      literals.push(literal.literal);
      if (this.peekPunct(')')) break;
      this.expectPunct(',');
    }
    this.expectPunct(')');
    if (literals.length > MAX_IN_VALUES) throw invalidFilter(`the 'in' operator takes at most ${MAX_IN_VALUES} values; this one has ${literals.length}`);
    return { kind: 'in', path, literals };
  }

  private next(): Token | undefined {
    return this.tokens[this.pos++];
  }

  private keyword(word: string): boolean {
    const token = this.tokens[this.pos];
    if (token?.kind === 'path' && token.segments.length === 1 && token.segments[0] === word) {
      this.pos++;
      return true;
    }
    return false;
  }

  private peekPunct(value: string): boolean {
    const token = this.tokens[this.pos];
    return token?.kind === 'punct' && token.value === value;
  }

  private expectPunct(value: string): void {
    if (!this.peekPunct(value)) throw invalidFilter(`expected '${value}'`);
    this.pos++;
  }
}

export function parseFilter(text: string): FilterExpr {
  return new Parser(tokenize(text)).parse();
}

/** Reads a property path of the entity being filtered. */
export type PathResolver = (path: string[]) => unknown;

/** Walks nested objects by property name, case-insensitively as Graph does. */
export function resolvePath(root: unknown, path: string[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === segment.toLowerCase());
    current = key === undefined ? undefined : record[key];
  }
  return current;
}

export function evaluateFilter(expr: FilterExpr, resolve: PathResolver): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluateFilter(expr.left, resolve) && evaluateFilter(expr.right, resolve);
    case 'or':
      return evaluateFilter(expr.left, resolve) || evaluateFilter(expr.right, resolve);
    case 'not':
      return !evaluateFilter(expr.expr, resolve);
    case 'compare':
      return compare(resolve(expr.path), expr.op, expr.literal);
    case 'in': {
      const actual = resolve(expr.path);
      return expr.literals.some((literal) => compare(actual, 'eq', literal));
    }
    case 'lambda': {
      const items = resolve(expr.collection);
      const elements = Array.isArray(items) ? items : [];
      const test = (element: unknown) => evaluateFilter(expr.predicate, (path) => (path[0] === expr.variable ? resolvePath(element, path.slice(1)) : resolve(path)));
      return expr.quantifier === 'any' ? elements.some(test) : elements.every(test);
    }
  }
}

function compare(actual: unknown, op: CompareOp, literal: FilterLiteral): boolean {
  let order: number | undefined;
  switch (literal.kind) {
    case 'null':
      return op === 'eq' ? actual == null : op === 'ne' ? actual != null : false;
    case 'string':
      // Exchange and the directory compare strings without regard to case.
      if (typeof actual !== 'string') return op === 'ne';
      order = actual.toLowerCase().localeCompare(literal.value.toLowerCase(), 'en');
      break;
    case 'number':
      if (typeof actual !== 'number') return op === 'ne';
      order = actual - literal.value;
      break;
    case 'boolean':
      if (op !== 'eq' && op !== 'ne') throw invalidFilter('booleans support only eq and ne');
      return (actual === literal.value) === (op === 'eq');
    case 'datetime': {
      const time = typeof actual === 'string' ? Date.parse(actual) : NaN;
      if (Number.isNaN(time)) return op === 'ne';
      order = time - literal.value;
      break;
    }
  }
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}

/** The top-level `and` operands of a filter, so a caller can pick one it can answer from an index. */
export function conjuncts(expr: FilterExpr): FilterExpr[] {
  return expr.kind === 'and' ? [...conjuncts(expr.left), ...conjuncts(expr.right)] : [expr];
}
