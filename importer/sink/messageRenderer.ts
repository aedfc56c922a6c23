import type { ArchiveItem, AttachmentInfo, Participant } from '../model';

/** What a mailbox item shows: one small, explicit rendering per kind. */
export interface RenderedMessage {
  subject: string;
  html: string;
  from: Recipient;
  to: Recipient[];
  cc: Recipient[];
}

export interface Recipient {
  emailAddress: { name: string; address: string };
}

export interface RenderOptions {
  /** Attachments that will not be in the message (too big for the mailbox): listed as kept in archive storage. */
  keptOutside?: ReadonlySet<number>;
}

// Numbers without an email still need an address: a reserved top-level domain, never deliverable.
const NO_EMAIL_DOMAIN = 'mobile.invalid';

const KIND_LABEL: Record<ArchiveItem['kind'], string> = {
  sms: 'SMS',
  mms: 'MMS',
  chat: 'Chat message',
  voiceRecording: 'Voice call recording',
  voiceCallLog: 'Voice call',
};

export function renderMessage(item: ArchiveItem, options: RenderOptions = {}): RenderedMessage {
  const from = item.participants.find((p) => p.role === 'from') ?? item.participants[0];
  const to = item.participants.filter((p) => p !== from && p.role !== 'cc');
  const cc = item.participants.filter((p) => p !== from && p.role === 'cc');
  return {
    subject: subjectOf(item, from, to),
    html: bodyOf(item, options.keptOutside ?? new Set()),
    from: recipient(from),
    to: to.map(recipient),
    cc: cc.map(recipient),
  };
}

function subjectOf(item: ArchiveItem, from: Participant | undefined, to: Participant[]): string {
  const others = (list: Participant[]) => (list.length <= 2 ? list.map(display).join(', ') : `${list.slice(0, 2).map(display).join(', ')} +${list.length - 2}`);
  const who = `${from ? display(from) : 'unknown'} to ${item.chat?.group ?? (others(to) || 'unknown')}`;
  switch (item.kind) {
    case 'voiceCallLog':
    case 'voiceRecording': {
      const missed = item.callStatus === 'missed' ? ' (missed)' : '';
      return `${KIND_LABEL[item.kind]}${missed}: ${who}${item.durationSeconds !== undefined && !missed ? `, ${duration(item.durationSeconds)}` : ''}`;
    }
    default: {
      const preview = item.text.replace(/\s+/g, ' ').trim();
      const tail = preview ? `: ${preview.length > 60 ? `${preview.slice(0, 59)}…` : preview}` : '';
      const label = item.kind === 'chat' && item.chat ? `${item.chat.app} message` : KIND_LABEL[item.kind];
      return `${label} ${who}${tail}`;
    }
  }
}

function bodyOf(item: ArchiveItem, keptOutside: ReadonlySet<number>): string {
  const rows: [string, string][] = [
    ['Type', item.kind === 'chat' && item.chat ? `${KIND_LABEL.chat} (${item.chat.app})` : KIND_LABEL[item.kind]],
    [
      'Time (UTC)',
      item.at
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC'),
    ],
  ];
  if (item.chat?.group) rows.push(['Group', item.chat.group]);
  if (item.subscriber) rows.push(['Archived line', item.subscriber]);
  if (item.direction) rows.push(['Direction', item.direction === 'inbound' ? 'Inbound' : 'Outbound']);
  if (item.callStatus) rows.push(['Call', item.callStatus === 'missed' ? 'Missed' : 'Answered']);
  if (item.durationSeconds !== undefined) rows.push(['Duration', duration(item.durationSeconds)]);
  if (item.network) rows.push(['Network', item.network]);
  if (item.threadId) rows.push(['Thread', item.threadId]);
  for (const p of item.participants) rows.push([roleLabel(p.role), participantLine(p)]);
  rows.push(['Archive item', item.id]);
  rows.push(['Raw item SHA-256', item.raw.sha256]);

  const parts = [
    '<html><body>',
    `<table style="border-collapse:collapse;font-family:Segoe UI,Arial,sans-serif;font-size:10pt">${rows
      .map(([k, v]) => `<tr><td style="padding:2px 12px 2px 0;color:#605e5c;vertical-align:top">${escape(k)}</td><td dir="auto">${escape(v)}</td></tr>`)
      .join('')}</table>`,
  ];
  if (item.text) parts.push(`<div dir="auto" style="margin-top:12px;white-space:pre-wrap;font-family:Segoe UI,Arial,sans-serif">${escape(item.text)}</div>`);
  if (item.attachments.length) {
    parts.push('<p style="margin-top:12px;font-family:Segoe UI,Arial,sans-serif"><b>Attachments</b></p><ul style="font-family:Segoe UI,Arial,sans-serif;font-size:9pt">');
    for (const a of item.attachments) parts.push(`<li>${attachmentLine(a, keptOutside.has(a.index))}</li>`);
    parts.push('</ul>');
  }
  parts.push('</body></html>');
  return parts.join('');
}

function attachmentLine(a: AttachmentInfo, outside: boolean): string {
  const base = `${escape(a.name)} (${escape(a.contentType)}, ${size(a.size)}, SHA-256 ${a.sha256})`;
  return outside ? `${base} — <b>too large for this mailbox: kept in the archive's raw item storage, not attached here</b>` : base;
}

function recipient(p: Participant | undefined): Recipient {
  if (!p) return { emailAddress: { name: 'Unknown', address: `unknown@${NO_EMAIL_DOMAIN}` } };
  const address = p.email ?? `${(p.number ?? 'unknown').replace(/^\+/, '')}@${NO_EMAIL_DOMAIN}`;
  return { emailAddress: { name: display(p), address } };
}

function display(p: Participant): string {
  return p.name ? `${p.name}${p.number ? ` (${p.number})` : ''}` : (p.number ?? p.email ?? 'unknown');
}

function participantLine(p: Participant): string {
  return [p.name, p.number, p.email && `<${p.email}>`].filter(Boolean).join(' ');
}

function roleLabel(role: Participant['role']): string {
  return { from: 'From', to: 'To', cc: 'Cc', participant: 'Participant' }[role];
}

export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s` : `${m}m ${String(s).padStart(2, '0')}s`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
