import {
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConfigurationServiceClientCredentialFactory,
  type ConversationReference,
  type TurnContext,
} from 'botbuilder';
import type { AdaptiveCard } from './cards';

/**
 * How the bot endpoint authenticates. Public-cloud Bot Framework values are the defaults; tests
 * point the channel's OpenID metadata and token issuer at the sign-in emulator.
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
      openIdMetadataUrl?: string;
      tokenIssuer?: string;
      /** Where the bot gets its own tokens for replies (SingleTenant), https://login.microsoftonline.com/<tenant> by default. */
      loginUrl?: string;
    };

/** Bot Framework's public cloud, as botbuilder's AuthenticationConstants has it. */
const PUBLIC_CLOUD = {
  openIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  tokenIssuer: 'https://api.botframework.com',
  emulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration',
  oauthScope: 'https://api.botframework.com',
  oauthUrl: 'https://api.botframework.com',
};

export function createCloudAdapter(auth: BotAuthentication): CloudAdapter {
  if (auth.mode === 'localUnauthenticated') {
    // No app id: botbuilder accepts unsigned requests and sends replies without a token.
    return new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  }
  const settings = {
    MicrosoftAppId: auth.appId,
    MicrosoftAppType: auth.appType,
    MicrosoftAppTenantId: auth.tenantId,
    MicrosoftAppPassword: auth.password,
  };
  const credentials = new ConfigurationServiceClientCredentialFactory(settings);
  return new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication(
      {
        ...settings,
        ValidateAuthority: true,
        ToBotFromChannelOpenIdMetadataUrl: auth.openIdMetadataUrl ?? PUBLIC_CLOUD.openIdMetadataUrl,
        ToBotFromChannelTokenIssuer: auth.tokenIssuer ?? PUBLIC_CLOUD.tokenIssuer,
        ToBotFromEmulatorOpenIdMetadataUrl: PUBLIC_CLOUD.emulatorOpenIdMetadataUrl,
        ToChannelFromBotLoginUrl: auth.loginUrl ?? `https://login.microsoftonline.com/${auth.tenantId}`,
        ToChannelFromBotOAuthScope: PUBLIC_CLOUD.oauthScope,
        OAuthUrl: PUBLIC_CLOUD.oauthUrl,
      },
      credentials,
    ),
  );
}

export function cardActivity(card: AdaptiveCard) {
  return { type: 'message' as const, attachments: [CardFactory.adaptiveCard(card)] };
}

/** Posting and replacing cards in stored conversations, outside any turn. */
export interface CardChannel {
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
    await this.adapter.continueConversationAsync(this.appId, reference, async (context: TurnContext) => {
      id = (await context.sendActivity(cardActivity(card)))?.id ?? '';
    });
    return id;
  }

  async update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<void> {
    await this.adapter.continueConversationAsync(this.appId, reference, async (context: TurnContext) => {
      await context.updateActivity({ ...cardActivity(card), id: activityId });
    });
  }
}
