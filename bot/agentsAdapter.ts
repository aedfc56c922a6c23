import { Activity, type ConversationReference } from '@microsoft/agents-activity';
import { AuthType, CardFactory, CloudAdapter, MessageFactory, type AuthConfiguration, type TurnContext } from '@microsoft/agents-hosting';
import type { AdaptiveCard } from './cards';

/**
 * How the bot endpoint authenticates. Public-cloud Bot Framework values are the defaults; tests
 * point the channel's OpenID metadata and the sign-in authority at the sign-in emulator.
 */
export type BotAuthentication =
  /** Local development only (the server binds to loopback): no token is checked or sent. */
  | { mode: 'localUnauthenticated' }
  | {
      mode: 'authenticated';
      appId: string;
      appType: 'UserAssignedMSI' | 'SingleTenant';
      tenantId: string;
      /** SingleTenant only. */
      password?: string;
      /** The channel's OpenID metadata, whose keys sign the tokens /api/messages accepts. */
      openIdMetadataUrl?: string;
      tokenIssuer?: string;
      /** Where a SingleTenant bot gets its own tokens for replies: https://login.microsoftonline.com unless set. */
      authorityHost?: string;
    };

/** The one connection the SDK keeps per bot; named as the SDK names its default. */
const CONNECTION = 'serviceConnection';

/**
 * The Agents SDK's adapter: it runs turns and sends replies and proactive cards through the Bot
 * Connector. Its settings are given whole (connections and map), so that no stray environment
 * variable (the SDK also reads clientId, tenantId, Connections__… from the environment) changes them.
 */
export function createCloudAdapter(auth: BotAuthentication): CloudAdapter {
  const settings: AuthConfiguration =
    auth.mode === 'localUnauthenticated'
      ? // No client id: replies go out without a token, as the Agents Playground expects.
        {}
      : auth.appType === 'UserAssignedMSI'
        ? { authType: AuthType.UserManagedIdentity, clientId: auth.appId, tenantId: auth.tenantId }
        : {
            authType: AuthType.ClientSecret,
            clientId: auth.appId,
            tenantId: auth.tenantId,
            clientSecret: auth.password,
            authorityEndpoint: `${(auth.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '')}/${auth.tenantId}`,
          };
  return new CloudAdapter({ ...settings, connections: new Map([[CONNECTION, settings]]), connectionsMap: [{ serviceUrl: '*', connection: CONNECTION }] });
}

export function cardActivity(card: AdaptiveCard): Activity {
  return MessageFactory.attachment(CardFactory.adaptiveCard(card));
}

/** Posting and replacing cards in stored conversations, outside any turn. */
export interface CardChannel {
  /** Posts a card; a failure carries the connector's HTTP status as `statusCode` (403, 404: the bot is gone from there). */
  post(reference: Partial<ConversationReference>, card: AdaptiveCard): Promise<string>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<void>;
}

export class AdapterCardChannel implements CardChannel {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
  ) {}

  async post(reference: Partial<ConversationReference>, card: AdaptiveCard): Promise<string> {
    let id = '';
    await this.continue(reference, async (context) => {
      id = (await context.sendActivity(cardActivity(card)))?.id ?? '';
    });
    return id;
  }

  async update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<void> {
    await this.continue(reference, async (context) => {
      const activity = cardActivity(card);
      activity.id = activityId;
      await context.updateActivity(activity);
    });
  }

  private async continue(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    // The adapter hands a turn's error to onTurnError (which answers in the chat) and returns; a post
    // outside any chat turn must fail to its caller instead, who drops a conversation answering 403/404.
    let failure: unknown;
    // An identity, not the bare app id: without an app id (local development) the SDK sends without a token.
    await this.adapter.continueConversation({ aud: this.appId }, upgradedReference(reference), async (context) => {
      try {
        await logic(context);
      } catch (err) {
        failure = err ?? new Error('the post failed');
      }
    });
    if (failure !== undefined) {
      // The SDK's HTTP errors carry `status`; the notifier reads `statusCode`, whatever the SDK.
      const status = (failure as { status?: unknown }).status;
      if (typeof status === 'number') Object.assign(failure as object, { statusCode: status });
      throw failure;
    }
  }
}

/** A reference stored by botbuilder named the bot `bot`; the Agents SDK names it `agent`. */
function upgradedReference(reference: Partial<ConversationReference> & { bot?: ConversationReference['agent'] }): ConversationReference {
  const { bot, ...rest } = reference;
  return { ...rest, agent: rest.agent ?? bot } as ConversationReference;
}
