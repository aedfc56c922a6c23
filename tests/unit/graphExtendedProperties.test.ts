import { GraphError } from '../../emulators/graph/graphError';
import { canonicalPropertyId, parseExtendedProperty } from '../../emulators/graph/extendedProperties';

describe('extended property ids', () => {
  it('reduces spellings Exchange treats as one property to a single id', () => {
    expect(canonicalPropertyId('Integer 0x0E07')).toBe('Integer 0xe07');
    expect(canonicalPropertyId('integer 0xe07')).toBe('Integer 0xe07');
    expect(canonicalPropertyId('String {00020329-0000-0000-C000-000000000046} Name ArchiveKey')).toBe('String {00020329-0000-0000-c000-000000000046} Name ArchiveKey');
    expect(canonicalPropertyId('String {00020329-0000-0000-C000-000000000046} Id 0x00A1')).toBe('String {00020329-0000-0000-c000-000000000046} Id 0xa1');
  });

  it('rejects ids that are not MAPI property ids', () => {
    for (const bad of ['Integer', 'Nonsense 0x0E07', 'String {not-a-guid} Name X', 'Integer 0x12345']) {
      expect(() => canonicalPropertyId(bad)).toThrow(GraphError);
    }
  });
});

describe('extended property values', () => {
  it('normalises times to whole UTC seconds and checks numbers', () => {
    expect(parseExtendedProperty({ id: 'SystemTime 0x0039', value: '2024-03-01T10:00:00.000+01:00' })).toEqual({
      id: 'SystemTime 0x39',
      value: '2024-03-01T09:00:00Z',
    });
    expect(parseExtendedProperty({ id: 'Integer 0x0E07', value: '01' }).value).toBe('1');
    expect(() => parseExtendedProperty({ id: 'Integer 0x0E07', value: 'one' })).toThrow(GraphError);
    expect(() => parseExtendedProperty({ id: 'SystemTime 0x0E06', value: 'yesterday' })).toThrow(GraphError);
    expect(() => parseExtendedProperty({ id: 'Integer 0x0E07', value: 1 })).toThrow(GraphError);
  });
});
