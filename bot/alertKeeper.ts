import type { Importer, RunLogger, UnmappedNumber } from '../importer';
import type { CardChannel } from './agentsAdapter';
import type { AlertCardStore, OfferingCard, ShownNumber, ShownResult } from './alertCardStore';
import { unmappedCard, type AdaptiveCard } from './cards';
import type { ConversationStore } from './conversationStore';
import { coalesced } from './coalesced';

export interface AlertKeeperDeps {
  importer: Importer;
  conversations: ConversationStore;
  cards: AlertCardStore;
  channel: CardChannel;
  log: RunLogger;
}

/** Where a card goes: posted in a turn (a reply) or proactively; answers the new activity's id. */
export type SendCard = (card: AdaptiveCard) => Promise<string>;

const SHOWN_PER_CARD = 20;

/**
 * Keeps every card that offers "Map" true to the importer's state. A number is announced once
 * per conversation; after that its card is updated in place as its held count changes, and once
 * the number has a mailbox (mapped from a card, the tab, a CSV or a restored version, or found by
 * automatic mapping) each card offering it says so and loses its button.
 *
 * The importer's durable state is read rather than its events listened to: mappings change from
 * the tab, the CLI and other processes, and while the bot is down; a check after every run,
 * after every Map click and on the notifier's timer sees all of them with no new coupling.
 */
export class AlertKeeper {
  /** Display names of admins the bot has heard from, by Entra object id. */
  private readonly names = new Map<string, string>();
  /** Cards whose Map click is being answered: the click's own outcome replaces them, not a refresh. */
  private readonly answering = new Set<string>();
  private readonly refreshCoalesced = coalesced(() => this.refreshOnce());

  constructor(private readonly deps: AlertKeeperDeps) {}

  learnName(aadObjectId: string | undefined, name: string | undefined): void {
    if (aadObjectId && name?.trim()) this.names.set(aadObjectId, name.trim());
  }

  /** The card for some numbers; it is tracked once sent, so it can be kept current. */
  async offer(conversationId: string, kind: OfferingCard['kind'], numbers: UnmappedNumber[], send: SendCard): Promise<string | undefined> {
    const shown = numbers
      .filter((u) => u.kind !== 'outsideParty')
      .sort((a, b) => b.itemCount - a.itemCount)
      .slice(0, SHOWN_PER_CARD)
      .map(shownOf);
    const activityId = await send(unmappedCard(numbers, new Map()));
    if (activityId && shown.length) await this.deps.cards.save({ conversationId, activityId, kind, numbers: shown, results: {} });
    return activityId;
  }

  /** Posts one alert card with the numbers not yet announced in this conversation; the others' cards are kept current instead. */
  async announce(conversationId: string, waiting: UnmappedNumber[], send: SendCard): Promise<void> {
    const announced = await this.deps.cards.announced(conversationId);
    const fresh = waiting.filter((u) => u.kind !== 'outsideParty' && !announced.has(u.number));
    if (!fresh.length) return;
    const activityId = await this.offer(conversationId, 'alert', fresh, send);
    if (activityId)
      await this.deps.cards.markAnnounced(
        conversationId,
        fresh.map((u) => u.number),
        activityId,
      );
  }

  /** Runs a Map click's work with its card kept out of refreshes, so the click's fuller outcome is not overwritten. */
  async whileAnswering<T>(conversationId: string, activityId: string | undefined, work: () => Promise<T>): Promise<T> {
    const key = `${conversationId}|${activityId ?? ''}`;
    this.answering.add(key);
    try {
      return await work();
    } finally {
      this.answering.delete(key);
    }
  }

  /** Records the outcome a card already shows (the Map click's answer), so a later refresh keeps it. */
  async settle(conversationId: string, activityId: string | undefined, number: string, result: ShownResult): Promise<void> {
    if (!activityId) return;
    const card = await this.deps.cards.get(conversationId, activityId);
    if (!card || !card.numbers.some((n) => n.number === number)) return;
    card.results[number] = result;
    await this.deps.cards.save(card);
    if (result.ok) await this.deps.cards.unannounce(conversationId, number);
  }

  /** The bot left the conversation: its cards cannot be updated any more. */
  forget(conversationId: string): Promise<void> {
    return this.deps.cards.dropConversation(conversationId);
  }

  /** Draws a tracked card as it stands now (with `showing` over its stored outcomes), or undefined when the card is not tracked. */
  async render(conversationId: string, activityId: string | undefined, showing: Record<string, ShownResult> = {}): Promise<AdaptiveCard | undefined> {
    const card = activityId ? await this.deps.cards.get(conversationId, activityId) : undefined;
    return card && draw({ ...card, results: { ...card.results, ...showing } });
  }

  /** Brings every open card up to date; a refresh asked for while one runs is run once more after it. */
  refresh(): Promise<void> {
    return this.refreshCoalesced();
  }

  private async refreshOnce(): Promise<void> {
    const { importer, cards, conversations, channel, log } = this.deps;
    const open: OfferingCard[] = [];
    for await (const card of cards.open()) open.push(card);
    if (!open.length) return;
    const waiting = new Map((await importer.mapping.unmappedAlerts()).map((u) => [u.number, u]));
    let mapping: Promise<{ mailboxes: Map<string, string>; by: string }> | undefined;
    for (const card of open) {
      if (this.answering.has(`${card.conversationId}|${card.activityId}`)) continue;
      let changed = false;
      for (const shown of card.numbers) {
        if (card.results[shown.number]?.ok) continue;
        const now = waiting.get(shown.number);
        if (now) {
          if (now.itemCount !== shown.itemCount) {
            Object.assign(shown, shownOf(now));
            changed = true;
          }
          continue;
        }
        mapping ??= this.activeMapping();
        const { mailboxes, by } = await mapping;
        const mailbox = mailboxes.get(shown.number);
        card.results[shown.number] = { text: mailbox ? `Mapped to ${mailbox} by ${by}.` : 'Has a mailbox now (found by automatic mapping); its held items are imported.', ok: true };
        await cards.unannounce(card.conversationId, shown.number);
        changed = true;
      }
      if (!changed) continue;
      const conversation = await conversations.get(card.conversationId);
      try {
        if (conversation) await channel.update(conversation.reference, card.activityId, draw(card));
        await cards.save(card);
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 403 || status === 404) await cards.dropConversation(card.conversationId);
        else log.warn({ conversationId: card.conversationId, err: { message: (err as Error).message } }, 'an alert card could not be updated; the next check tries again');
      }
    }
  }

  /** The active mapping's numbers and mailboxes, and who made that version, in words. */
  private async activeMapping(): Promise<{ mailboxes: Map<string, string>; by: string }> {
    const { importer } = this.deps;
    const mailboxes = new Map<string, string>();
    let header = true;
    for await (const line of importer.mapping.export()) {
      if (header) {
        header = false;
        continue;
      }
      const [number, mailbox] = line
        .trim()
        .split(',')
        .map((f) => f.replace(/^"|"$/g, '').replace(/^'/, '').trim());
      if (number && mailbox) mailboxes.set(`+${number.replace(/^\+/, '')}`, mailbox.toLowerCase());
    }
    const active = (await importer.mapping.versions({ top: 5 })).find((v) => v.active);
    return { mailboxes, by: active ? await this.nameOf(active.createdBy, active.origin) : 'an admin' };
  }

  /** An admin's name as Teams gave it to the bot; "an admin" for one who never wrote to it (an Entra id means nothing to a reader). */
  private async nameOf(actor: string, origin: string): Promise<string> {
    const how = origin === 'upload' ? ' (a mapping file)' : origin === 'restore' ? ' (a restored mapping version)' : '';
    let name = this.names.get(actor);
    if (!name) {
      for await (const c of this.deps.conversations.list()) if (c.lastUserId === actor && c.lastUserName) name = c.lastUserName;
    }
    return `${name ?? 'an admin'}${how}`;
  }
}

function shownOf(u: UnmappedNumber | ShownNumber): ShownNumber {
  const { number, itemCount, firstSeen, lastSeen, lastName, lastEmail, reason, kind } = u;
  return { number, itemCount, firstSeen, lastSeen, lastName, lastEmail, reason, kind };
}

function draw(card: OfferingCard): AdaptiveCard {
  return unmappedCard(card.numbers, new Map(Object.entries(card.results)));
}
