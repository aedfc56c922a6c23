import { fanOut, type MappingRules } from '../../importer/mapping/item/participantMapper';
import type { ArchiveItem, Participant } from '../../importer/model';

// The directory: who is a Microsoft 365 user. (The real lookup is Graph's; see the sink tests.)
const directory = new Map([
  ['ann@contoso.example', { id: 'u-ann', userPrincipalName: 'ann@contoso.example' }],
  ['bob@contoso.example', { id: 'u-bob', userPrincipalName: 'bob@contoso.example' }],
]);
const findUser = async (address: string) => directory.get(address.toLowerCase());

function item(participants: Participant[]): ArchiveItem {
  return { id: 'i', kind: 'sms', at: new Date(), archivedAt: new Date(), participants, subject: '', text: '', attachments: [], raw: { sha256: '', size: 0 } };
}

const rules = (custom: Record<string, string>, automatic: boolean): MappingRules => ({ custom: new Map(Object.entries(custom)), automatic, findUser });

describe('participant mapping', () => {
  it('uses the custom mapping first, then the participant email, and delivers once per mailbox', async () => {
    const result = await fanOut(
      item([
        { role: 'from', number: '+14155550101', email: 'someone-else@contoso.example' },
        { role: 'to', number: '+14155550102', email: 'bob@contoso.example' },
        { role: 'cc', number: '+14155550103', email: 'Ann@Contoso.example' },
      ]),
      rules({ '+14155550101': 'ann@contoso.example' }, true),
    );
    expect(result.recipients.map((r) => [r.mailbox, r.via, r.participants.length])).toEqual([
      ['ann@contoso.example', 'custom', 2],
      ['bob@contoso.example', 'automatic', 1],
    ]);
    expect(result.unmapped).toEqual([]);
  });

  it('falls back to the email when the custom mapping names no valid user', async () => {
    const result = await fanOut(item([{ role: 'from', number: '+14155550101', email: 'bob@contoso.example' }]), rules({ '+14155550101': 'gone@contoso.example' }, true));
    expect(result.recipients.map((r) => [r.mailbox, r.via])).toEqual([['bob@contoso.example', 'automatic']]);
  });

  it('says why a participant is unmapped, and maps nobody by email when automatic mapping is off', async () => {
    const result = await fanOut(
      item([
        { role: 'from', number: '+14155550101', email: 'bob@contoso.example' },
        { role: 'to', number: '+447700900123' },
        { role: 'cc', number: '+14155550109', email: 'gone@contoso.example' },
      ]),
      rules({ '+14155550109': 'gone@contoso.example' }, false),
    );
    expect(result.recipients).toEqual([]);
    expect(result.unmapped.map((u) => u.reason)).toEqual([
      'Not in the custom mapping; automatic mapping is off',
      'Not in the custom mapping; automatic mapping is off',
      'The custom mapping names gone@contoso.example, which is not a Microsoft 365 user; automatic mapping is off',
    ]);
    const auto = await fanOut(
      item([
        { role: 'to', number: '+447700900123' },
        { role: 'cc', number: '+1', email: 'gone@contoso.example' },
      ]),
      rules({}, true),
    );
    expect(auto.unmapped.map((u) => u.reason)).toEqual([
      'Not in the custom mapping; TeleMessage has no email address for this participant',
      'Not in the custom mapping; gone@contoso.example is not a Microsoft 365 user',
    ]);
  });
});
