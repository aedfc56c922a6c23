import { toE164 } from '../../phone/phoneNumber';
import type { Participant, ParticipantRole } from '../model';

const ROLES: readonly ParticipantRole[] = ['from', 'to', 'cc'];

/**
 * One `X-TELEMESSAGE-Participant` value (unfolded):
 * `role=from; number=+972531234567; email=noa.levi@contoso.example; name*=utf-8''%D7%A0…`.
 * No value holds whitespace or ';', so splitting is exact. Unknown parameters are ignored.
 */
export function parseParticipantHeader(value: string): Participant {
  const params = new Map<string, string>();
  for (const part of value.split(';')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq > 0) params.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  const role = (params.get('role') ?? '').toLowerCase() as ParticipantRole;
  const participant: Participant = { role: ROLES.includes(role) ? role : 'participant' };
  // A number libphonenumber cannot place (a short code, say) is left out rather than guessed.
  const rawNumber = params.get('number');
  const number = rawNumber ? toE164(rawNumber) : undefined;
  if (number) participant.number = number;
  const email = params.get('email');
  if (email) participant.email = email.toLowerCase();
  const name = params.has('name*') ? extendedValue(params.get('name*') as string) : params.get('name');
  if (name) participant.name = name;
  return participant;
}

/** RFC 2231 `charset'language'percent-encoded`; TeleMessage writes UTF-8. */
function extendedValue(value: string): string | undefined {
  const encoded = value.replace(/^[^']*'[^']*'/, '');
  try {
    return decodeURIComponent(encoded).trim() || undefined;
  } catch {
    // Broken percent-encoding: the name is only for display, the number is what maps.
    return undefined;
  }
}
