// Everything one connector needs in Azure, in one resource group:
//   storage (tables for state, write-once containers for raw items and the audit trail),
//   the App Service that runs server/, a user-assigned managed identity it acts as,
//   the Azure Bot registered with that identity, Key Vault for the secrets, and monitoring.
// Deploy with `az deployment group create` or the Agents Toolkit (m365agents.yml); see docs/deploy.md.

@description('Lowercase letters and digits that start every resource name, e.g. "archiver".')
@minLength(3)
@maxLength(11)
param resourceBaseName string

param location string = resourceGroup().location

@description('Entra tenant of the archived mailboxes; the subscription\'s tenant unless they differ.')
param tenantId string = subscription().tenantId

@description('Application (client) id of the app registration used for Microsoft Graph and the tab\'s SSO.')
param clientId string

@secure()
@description('Client secret of that app registration. Stored in Key Vault; the app setting only references it.')
param clientSecret string

@description('TeleMessage archive API root, e.g. https://archive.telemessage.com (no trailing slash).')
param telemessageBaseUrl string

@secure()
@description('TeleMessage password. Stored in Key Vault; the tab\'s setup step may replace it later.')
param telemessagePassword string

// Whole numbers, taken as text because the lifecycle file fills parameters from .env files.
@description('Days each raw item stays write-protected after it is stored. Choose it from your retention rules.')
param rawRetentionDays string

@description('Days each audit blob stays write-protected (appends stay allowed).')
param auditRetentionDays string

@description('The https origin Teams reaches the app at; empty for the App Service\'s own host name.')
param publicUrl string = ''

@description('App Service plan size. Basic (B1) or larger, because the connector needs Always On.')
param appServiceSku string = 'B1'

var suffix = uniqueString(resourceGroup().id)
var webAppName = '${resourceBaseName}-${suffix}'
var appPublicUrl = empty(publicUrl) ? 'https://${webAppName}.azurewebsites.net' : publicUrl
var telemessageSecretName = 'telemessage-password'
// Must match importer/state/tableNames.ts (a unit test compares them).
var tableNames = ['connector', 'mappings', 'runs', 'deliveries', 'runlog', 'unmapped', 'conversations', 'notifications']
var roleIds = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// ---------------------------------------------------------------- identity
// One identity for everything the app reaches in Azure (Storage, Key Vault) and for the bot itself.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${resourceBaseName}-identity'
  location: location
}

// ---------------------------------------------------------------- storage
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('${resourceBaseName}${suffix}', 24)
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Only Entra identities reach the data: no account keys, no SAS signed with them.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for name in tableNames: {
    parent: tableService
    name: name
  }
]

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    isVersioningEnabled: true
  }
}

resource rawContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'raw'
  properties: { publicAccess: 'None' }
}

// Raw items are write-once: nobody, the app included, can change or delete one before the period ends.
resource rawImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: rawContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: int(rawRetentionDays)
    allowProtectedAppendWrites: false
  }
}

resource auditContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'audit'
  properties: { publicAccess: 'None' }
}

// The audit trail is append blobs: new blocks may be appended, nothing written can be changed.
resource auditImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: int(auditRetentionDays)
    allowProtectedAppendWrites: true
  }
}

// Holds the lease blob that lets only one import run at a time; leases come and go, so no policy.
resource locksContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'locks'
  properties: { publicAccess: 'None' }
}

resource tableDataRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource blobDataRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roleIds.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- key vault
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${resourceBaseName}kv${suffix}', 24)
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource clientSecretEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'graph-client-secret'
  properties: { value: clientSecret }
}

resource telemessagePasswordEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: telemessageSecretName
  properties: { value: telemessagePassword }
}

// Read access to every secret: App Service resolves CLIENT_SECRET, the app reads the TeleMessage password.
resource secretsUserRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Write access to the TeleMessage password only, so the tab's setup step can store a new one.
resource telemessageSecretWriterRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(telemessagePasswordEntry.id, identity.id, roleIds.keyVaultSecretsOfficer)
  scope: telemessagePasswordEntry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- monitoring
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${resourceBaseName}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${resourceBaseName}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// ---------------------------------------------------------------- app service
resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${resourceBaseName}-plan'
  location: location
  kind: 'linux'
  sku: { name: appServiceSku }
  properties: { reserved: true }
}

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  name: webAppName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved as the user-assigned identity, not a system one.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      // Node.js 24 LTS, the runtime the product is built and tested on (supported until April 2028).
      linuxFxVersion: 'NODE|24-lts'
      // Not `npm start`: that starts the local stack with its emulators.
      // The flags are server/runtimeEnv.ts's NODE_RUNTIME_FLAGS.
      appCommandLine: 'node --max-semi-space-size=4 --max-old-space-size=1024 dist/server/index.js'
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      healthCheckPath: '/healthz'
      appSettings: [
        { name: 'NODE_ENV', value: 'production' }
        { name: 'PUBLIC_URL', value: appPublicUrl }
        { name: 'TENANT_ID', value: tenantId }
        { name: 'CLIENT_ID', value: clientId }
        { name: 'CLIENT_SECRET', value: '@Microsoft.KeyVault(SecretUri=${clientSecretEntry.properties.secretUri})' }
        { name: 'BOT_ID', value: identity.properties.clientId }
        { name: 'BOT_APP_TYPE', value: 'UserAssignedMSI' }
        { name: 'MANAGED_IDENTITY_CLIENT_ID', value: identity.properties.clientId }
        { name: 'STORAGE_ACCOUNT_NAME', value: storage.name }
        { name: 'KEY_VAULT_URL', value: vault.properties.vaultUri }
        { name: 'TELEMESSAGE_SECRET_NAME', value: telemessageSecretName }
        { name: 'TELEMESSAGE_BASE_URL', value: telemessageBaseUrl }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'ApplicationInsightsAgent_EXTENSION_VERSION', value: '~3' }
        // The package is built before deployment (npm ci, npm run build) and runs as uploaded.
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'false' }
        { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '1' }
        // glibc's allocator, tuned so freed Buffers go back to the system (server/runtimeEnv.ts says why).
        { name: 'MALLOC_ARENA_MAX', value: '2' }
        { name: 'MALLOC_MMAP_THRESHOLD_', value: '32768' }
      ]
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: webApp
  name: 'ftp'
  properties: { allow: false }
}

// ---------------------------------------------------------------- bot
// UserAssignedMSI: the bot signs in as the managed identity, so there is no bot password to keep or rotate.
resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: webAppName
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: 'Enterprise Number Archiver'
    endpoint: '${appPublicUrl}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppMSIResourceId: identity.id
    msaAppTenantId: identity.properties.tenantId
    msaAppType: 'UserAssignedMSI'
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

// Upper-case names: the Agents Toolkit writes these outputs into env/.env.<env> for the next steps.
output PUBLIC_URL string = appPublicUrl
output PUBLIC_HOST string = replace(appPublicUrl, 'https://', '')
output BOT_ID string = identity.properties.clientId
output APP_SERVICE_RESOURCE_ID string = webApp.id
output APP_SERVICE_NAME string = webApp.name
output STORAGE_ACCOUNT_NAME string = storage.name
output KEY_VAULT_NAME string = vault.name
