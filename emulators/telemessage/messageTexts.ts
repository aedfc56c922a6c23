import type { CountryCode } from './countryProfiles';
import type { SeededRandom } from './seededRandom';

type TextFlavour = 'plain' | 'emoji' | 'hebrew' | 'arabic' | 'european';

const PLAIN = [
  'Can you send me the latest numbers before the call?',
  'Running 10 minutes late, start without me.',
  'Client approved the revised terms. Sending paperwork now.',
  'Please confirm the trade size: 25,000 shares at market.',
  'Meeting moved to 3pm, same room.',
  'Got it, thanks.',
  'Call me when you land.',
  "Let's hold off on the announcement until Monday.",
  'The wire went out this morning, reference 88-4471.',
  'Can we push the review to Thursday?',
  'Yes',
  'On my way',
  'Do you have the signed NDA from Fabrikam?',
  'Quarterly figures attached, see page 4 for the variance.',
];

const EMOJI = [
  'Deal closed 🎉🍾 great work everyone!',
  'Thanks 🙏🏽 see you tomorrow',
  'Running late 🚗💨',
  'Family dinner tonight 👨‍👩‍👧 so offline after 7',
  '👍',
  'Numbers look good 📈 — send to compliance?',
  'Coffee? ☕️',
];

const HEBREW = ['נתראה מחר בפגישה בשעה 10', 'הלקוח אישר את ההצעה, שולח את החוזה עכשיו', 'אפשר לדחות את השיחה לשעה 15:30?', 'הצעה #4471 ל-Contoso אושרה 👍', 'תודה רבה!'];

const ARABIC = ['سأرسل لك العقد قبل نهاية اليوم', 'الاجتماع غدا الساعة العاشرة', 'تمت الموافقة على الصفقة، شكرا لكم', 'هل يمكننا تأجيل المكالمة؟ 🙏'];

const EUROPEAN = [
  'Können wir das Gespräch auf Donnerstag verschieben? Grüße, Jürgen',
  'Bitte die Unterlagen bis Freitag prüfen — danke schön!',
  'Réunion déplacée à 15h, même salle. À bientôt !',
  "Le client a validé l'offre, j'envoie le contrat ce soir.",
];

const GROUP_NAMES = ['Q3 deal team 🚀', 'Trading desk', 'Board prep', 'צוות מכירות', 'فريق المبيعات', 'Équipe Paris', 'Ops on-call'];

const FLAVOURS: Record<TextFlavour, readonly string[]> = {
  plain: PLAIN,
  emoji: EMOJI,
  hebrew: HEBREW,
  arabic: ARABIC,
  european: EUROPEAN,
};

/** A message body; Israeli and Emirati lines write in their own script more often. */
export function messageText(random: SeededRandom, country: CountryCode): string {
  const native: TextFlavour | undefined = country === 'IL' ? 'hebrew' : country === 'AE' ? 'arabic' : country === 'DE' || country === 'FR' ? 'european' : undefined;
  const flavour = random.weighted<TextFlavour>([
    ['plain', 0.7],
    ['emoji', 0.12],
    ['hebrew', native === 'hebrew' ? 0.5 : 0.04],
    ['arabic', native === 'arabic' ? 0.5 : 0.03],
    ['european', native === 'european' ? 0.4 : 0.03],
  ]);
  const lines = random.chance(0.2) ? 2 : 1;
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(random.pick(FLAVOURS[flavour]));
  return parts.join('\n');
}

export function chatGroupName(random: SeededRandom): string {
  return random.pick(GROUP_NAMES);
}
