import { canonicalPropertyId, ExtendedProperty, propertyKey } from './extendedProperties';
import { conjuncts, evaluateFilter, FilterExpr, resolvePath } from './odataFilter';
import { extendedPropertiesOf } from './graphJson';
import { isIndexed, Mailbox, StoredMessage } from './mailboxStore';

/**
 * Message filters as Exchange answers them: extended property ids compare in canonical form,
 * and the idempotency lookup (singleValueExtendedProperties/any(ep: ep/id eq … and ep/value eq …))
 * is served from an index instead of a scan.
 */
const EXTENDED = 'singlevalueextendedproperties';

/** Rewrites id literals compared against extended property ids into their comparison keys (propertyKey). */
function canonicalizeIds(expr: FilterExpr, isIdPath: (path: string[]) => boolean): FilterExpr {
  switch (expr.kind) {
    case 'compare':
      return isIdPath(expr.path) && expr.literal.kind === 'string' ? { ...expr, literal: { kind: 'string', value: propertyKey(canonicalPropertyId(expr.literal.value)) } } : expr;
    case 'in':
      return isIdPath(expr.path) ? { ...expr, literals: expr.literals.map((l) => (l.kind === 'string' ? { kind: 'string', value: canonicalPropertyId(l.value) } : l)) } : expr;
    case 'and':
    case 'or':
      return { ...expr, left: canonicalizeIds(expr.left, isIdPath), right: canonicalizeIds(expr.right, isIdPath) };
    case 'not':
      return { ...expr, expr: canonicalizeIds(expr.expr, isIdPath) };
    case 'lambda': {
      const overExtended = expr.collection.length === 1 && expr.collection[0].toLowerCase() === EXTENDED;
      const inner = overExtended ? (path: string[]) => path.length === 2 && path[0] === expr.variable && path[1].toLowerCase() === 'id' : isIdPath;
      return { ...expr, predicate: canonicalizeIds(expr.predicate, inner) };
    }
  }
}

export function prepareMessageFilter(expr: FilterExpr): FilterExpr {
  return canonicalizeIds(expr, () => false);
}

/** Filter for $expand=singleValueExtendedProperties($filter=id eq '…'), where paths are the property's own. */
export function prepareExtendedPropertyFilter(expr: FilterExpr): FilterExpr {
  return canonicalizeIds(expr, (path) => path.length === 1 && path[0].toLowerCase() === 'id');
}

/** Properties as filters see them: ids as comparison keys, so a named property's Name matches with its case. */
function comparable(properties: ExtendedProperty[]): ExtendedProperty[] {
  return properties.map((p) => ({ id: propertyKey(p.id), value: p.value }));
}

function messageResolver(message: StoredMessage) {
  return (path: string[]): unknown => {
    const head = path[0].toLowerCase();
    if (head === EXTENDED) return comparable(extendedPropertiesOf(message));
    if (head === 'hasattachments') return message.attachments.some((a) => !a.isInline);
    return resolvePath(message, path);
  };
}

/** The id/value pair of an any() lambda that the index can answer, if the filter has one. */
function indexedLookup(expr: FilterExpr): ExtendedProperty | undefined {
  for (const term of conjuncts(expr)) {
    if (term.kind !== 'lambda' || term.quantifier !== 'any') continue;
    if (term.collection.length !== 1 || term.collection[0].toLowerCase() !== EXTENDED) continue;
    let id: string | undefined;
    let value: string | undefined;
    for (const part of conjuncts(term.predicate)) {
      if (part.kind !== 'compare' || part.op !== 'eq' || part.literal.kind !== 'string') continue;
      if (part.path.length !== 2 || part.path[0] !== term.variable) continue;
      const field = part.path[1].toLowerCase();
      if (field === 'id') id = part.literal.value;
      if (field === 'value') value = part.literal.value;
    }
    if (id !== undefined && value !== undefined && isIndexed(id)) return { id, value };
  }
  return undefined;
}

/** Messages of a folder (or the whole mailbox) that pass a prepared filter, newest first. */
export function findMessages(mailbox: Mailbox, folderId: string | undefined, filter: FilterExpr | undefined): StoredMessage[] {
  const lookup = filter && indexedLookup(filter);
  let candidates: StoredMessage[];
  if (lookup) {
    const folder = folderId === undefined ? undefined : mailbox.folder(folderId).id;
    candidates = mailbox.messagesWithProperty(lookup.id, lookup.value).filter((m) => folder === undefined || m.parentFolderId === folder);
  } else {
    candidates = mailbox.listMessages(folderId);
  }
  return filter ? candidates.filter((m) => evaluateFilter(filter, messageResolver(m))) : candidates;
}

export function expandedExtendedProperties(message: StoredMessage, filter: FilterExpr | undefined): ExtendedProperty[] {
  const all = extendedPropertiesOf(message);
  return filter ? all.filter((p) => evaluateFilter(filter, (path) => resolvePath({ id: propertyKey(p.id), value: p.value }, path))) : all;
}
