import { GraphError } from '../../emulators/graph/graphError';
import { conjuncts, evaluateFilter, parseFilter, resolvePath } from '../../emulators/graph/odataFilter';

const message = {
  subject: "Susan's SMS",
  isRead: false,
  size: 42,
  receivedDateTime: '2024-03-01T09:00:05Z',
  from: { emailAddress: { address: 'Bob@Contoso.com' } },
  parentFolderId: null,
  singleValueExtendedProperties: [
    { id: 'String {00020329-0000-0000-c000-000000000046} Name ArchiveKey', value: 'abc' },
    { id: 'Integer 0xe07', value: '1' },
  ],
};

const matches = (filter: string) => evaluateFilter(parseFilter(filter), (path) => resolvePath(message, path));

describe('OData $filter', () => {
  it('compares strings without regard to case, and escapes quotes by doubling them', () => {
    expect(matches("subject eq 'susan''s sms'")).toBe(true);
    expect(matches("from/emailAddress/address eq 'bob@contoso.com'")).toBe(true);
    expect(matches("subject ne 'other'")).toBe(true);
  });

  it("takes 'in' lists of up to 15 values, as Graph does by default", () => {
    expect(matches("from/emailAddress/address in ('ann@contoso.com', 'BOB@contoso.com')")).toBe(true);
    expect(matches("subject in ('other', 'another')")).toBe(false);
    expect(matches('size in (41, 42) and isRead eq false')).toBe(true);
    const values = (n: number) => Array.from({ length: n }, (_, i) => `'v${i}'`).join(',');
    expect(() => parseFilter(`subject in (${values(15)})`)).not.toThrow();
    expect(() => parseFilter(`subject in (${values(16)})`)).toThrow(/at most 15 values/);
    expect(() => parseFilter('subject in ()')).toThrow(GraphError);
  });

  it('compares numbers, booleans, nulls and instants', () => {
    expect(matches('size gt 41 and size le 42')).toBe(true);
    expect(matches('isRead eq false')).toBe(true);
    expect(matches('parentFolderId eq null')).toBe(true);
    expect(matches('receivedDateTime ge 2024-03-01T09:00:00Z')).toBe(true);
    expect(matches('receivedDateTime lt 2024-03-01T09:00:05Z')).toBe(false);
  });

  it('binds and tighter than or, honours parentheses and not', () => {
    expect(matches("subject eq 'x' and isRead eq false or size eq 42")).toBe(true);
    expect(matches("subject eq 'x' and (isRead eq false or size eq 42)")).toBe(false);
    expect(matches('not (size eq 42)')).toBe(false);
  });

  it('evaluates any() and all() over a collection, whatever the case of the keyword', () => {
    expect(matches("singleValueExtendedProperties/Any(ep: ep/id eq 'Integer 0xe07' and ep/value eq '1')")).toBe(true);
    expect(matches("singleValueExtendedProperties/any(ep: ep/value eq 'zzz')")).toBe(false);
    expect(matches("singleValueExtendedProperties/all(ep: ep/value ne '')")).toBe(true);
  });

  it('rejects malformed filters with a 400 GraphError', () => {
    for (const bad of ["subject eq 'open", 'subject eq', 'subject like 1', "(subject eq 'a'", "subject eq 'a' junk"]) {
      let error: unknown;
      try {
        parseFilter(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GraphError);
      expect((error as GraphError).status).toBe(400);
    }
  });

  it('splits a filter into its top-level and operands', () => {
    const parts = conjuncts(parseFilter("a eq 1 and (b eq 2 or c eq 3) and d eq 'x'"));
    expect(parts.map((p) => p.kind)).toEqual(['compare', 'or', 'compare']);
  });
});
