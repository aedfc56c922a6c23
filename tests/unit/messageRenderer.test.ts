import { renderMessage } from '../../importer/sink/messageRenderer';
import type { ArchiveItem } from '../../importer/model';

const base: ArchiveItem = {
  id: 'TM-1',
  kind: 'sms',
  at: new Date('2026-11-24T09:13:22Z'),
  archivedAt: new Date('2026-11-24T09:13:25Z'),
  participants: [
    { role: 'from', number: '+14155550101', email: 'ann@contoso.example', name: 'Ann Lee' },
    { role: 'to', number: '+972531234567', name: 'נועה לוי' },
  ],
  subject: '',
  text: 'See you <tomorrow> & bring "docs"',
  attachments: [],
  raw: { sha256: 'ab'.repeat(32), size: 100 },
};

describe('message rendering', () => {
  it('reads an SMS as a thread line: who to whom, and the text, escaped, right-to-left safe', () => {
    const r = renderMessage(base);
    expect(r.subject).toBe('SMS Ann Lee (+14155550101) to נועה לוי (+972531234567): See you <tomorrow> & bring "docs"');
    expect(r.html).toContain('See you &lt;tomorrow&gt; &amp; bring &quot;docs&quot;');
    expect(r.html).not.toContain('<tomorrow>');
    expect(r.html).toContain('dir="auto"');
    expect(r.from.emailAddress).toEqual({ name: 'Ann Lee (+14155550101)', address: 'ann@contoso.example' });
    expect(r.to[0].emailAddress.address).toBe('972531234567@mobile.invalid');
  });

  it('reads a call log with parties, direction and duration, and a missed call as missed', () => {
    const call: ArchiveItem = { ...base, kind: 'voiceCallLog', direction: 'outbound', durationSeconds: 192, callStatus: 'answered', text: '' };
    expect(renderMessage(call).subject).toBe('Voice call: Ann Lee (+14155550101) to נועה לוי (+972531234567), 3m 12s');
    expect(renderMessage(call).html).toMatch(/Direction<\/td><td dir="auto">Outbound/);
    expect(renderMessage({ ...call, callStatus: 'missed', durationSeconds: 0 }).subject).toBe('Voice call (missed): Ann Lee (+14155550101) to נועה לוי (+972531234567)');
  });

  it('lists every attachment with its size and SHA-256, and flags those kept outside the mailbox', () => {
    const mms: ArchiveItem = {
      ...base,
      kind: 'mms',
      attachments: [
        { index: 0, name: 'IMG_1.jpg', contentType: 'image/jpeg', size: 358_400, sha256: '11'.repeat(32) },
        { index: 1, name: 'VID_2.mp4', contentType: 'video/mp4', size: 160 * 1024 * 1024, sha256: '22'.repeat(32) },
      ],
    };
    const html = renderMessage(mms, { keptOutside: new Set([1]) }).html;
    expect(html).toContain(`IMG_1.jpg (image/jpeg, 350.0 KB, SHA-256 ${'11'.repeat(32)})`);
    expect(html).toMatch(/VID_2\.mp4 \(video\/mp4, 160\.0 MB, SHA-256 2{64}\) — <b>too large for this mailbox/);
    expect(html).toContain(`Raw item SHA-256</td><td dir="auto">${'ab'.repeat(32)}`);
  });

  it('names the chat app and group for chat messages', () => {
    const chat: ArchiveItem = { ...base, kind: 'chat', chat: { app: 'WhatsApp', group: 'Board prep' }, text: 'ok' };
    expect(renderMessage(chat).subject).toBe('WhatsApp message Ann Lee (+14155550101) to Board prep: ok');
  });
});
