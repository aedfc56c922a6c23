import type { ArchiveItem, Participant } from '../../model';

export interface MailboxUser {
  id: string;
  userPrincipalName: string;
}

export interface MappingRules {
  /** The active custom mapping: E.164 number -> mailbox address. */
  custom: ReadonlyMap<string, string>;
  /** Whether the participant's email (TeleMessage's "User's Email address") may map them. */
  automatic: boolean;
  /** The Microsoft 365 user behind an address, or undefined (the mailbox must be a valid user). */
  findUser(address: string): Promise<MailboxUser | undefined>;
}

export interface Recipient {
  mailbox: string;
  userId: string;
  via: 'custom' | 'automatic';
  participants: Participant[];
}

export interface UnmappedParticipant {
  participant: Participant;
  reason: string;
}

export interface FanOut {
  recipients: Recipient[];
  unmapped: UnmappedParticipant[];
}

/**
 * Maps each participant to a mailbox as Microsoft's connector does: the custom mapping first,
 * then (when on) automatic mapping by the participant's email; either way the mailbox must be a
 * valid Microsoft 365 user. An item goes to every mapped participant's mailbox, once per mailbox.
 */
export async function fanOut(item: ArchiveItem, rules: MappingRules): Promise<FanOut> {
  const recipients = new Map<string, Recipient>();
  const unmapped: UnmappedParticipant[] = [];
  for (const participant of item.participants) {
    const result = await mapOne(participant, rules);
    if ('reason' in result) {
      unmapped.push({ participant, reason: result.reason });
      continue;
    }
    const key = result.user.userPrincipalName.toLowerCase();
    const existing = recipients.get(key);
    if (existing) existing.participants.push(participant);
    else recipients.set(key, { mailbox: key, userId: result.user.id, via: result.via, participants: [participant] });
  }
  return { recipients: [...recipients.values()], unmapped };
}

async function mapOne(p: Participant, rules: MappingRules): Promise<{ user: MailboxUser; via: Recipient['via'] } | { reason: string }> {
  const reasons: string[] = [];
  const custom = p.number ? rules.custom.get(p.number) : undefined;
  if (custom) {
    const user = await rules.findUser(custom);
    if (user) return { user, via: 'custom' };
    reasons.push(`the custom mapping names ${custom}, which is not a Microsoft 365 user`);
  } else if (p.number) {
    reasons.push('not in the custom mapping');
  }
  if (!rules.automatic) {
    reasons.push('automatic mapping is off');
  } else if (!p.email) {
    reasons.push('TeleMessage has no email address for this participant');
  } else {
    const user = await rules.findUser(p.email);
    if (user) return { user, via: 'automatic' };
    reasons.push(`${p.email} is not a Microsoft 365 user`);
  }
  return { reason: capitalise(reasons.join('; ')) };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
