// Everything one connector needs in Azure, in one resource group:
//   storage (tables for state, write-once containers for raw items and the audit trail),
//   the App Service that runs server/, a user-assigned managed identity it acts as,
//   optionally workers on Azure Container Apps that take a run's per-mailbox delivery units from a
//   Storage queue and scale with its length (docs/deploy.md, "Workers"),
//   the Azure Bot registered with that identity, Key Vault for the secrets, a virtual network that
//   keeps Storage and Key Vault reachable only from the app, and logs kept for the records period;
//   in Microsoft Entra ID (Microsoft Graph extension): the app registration's federated credential
//   that trusts the managed identity, and the enterprise app's user assignment.
// The app, the bot, the managed identity and the archived mailboxes are all in one tenant: the
// tenant of the subscription this is deployed to.
// Deploy with `az deployment group create` or the Agents Toolkit (m365agents.yml); see docs/deploy.md.
extension microsoftGraphV1

// Storage account names take 3-24 lowercase letters and digits and Key Vault names start with a
// letter: resourceBaseName must fit both (checked below, before anything is created).
@description('3-11 lowercase letters and digits, starting with a letter, that start every resource name, e.g. "archiver".')
@minLength(3)
@maxLength(11)
param resourceBaseName string

param location string = resourceGroup().location

@description('Application (client) id of the app registration used for Microsoft Graph and the tab\'s SSO.')
param clientId string

@description('uniqueName of that app registration (docs/deploy.md, step 1): how the Microsoft Graph extension finds it.')
param appUniqueName string

@description('Object id of the Entra security group of the admins who run the connector: the only users who can get a token for the tab.')
param adminsGroupId string

@description('Entra object ids of the connector\'s first admins (users, comma-separated): the only people the bot and the tab act for. Written to the connector\'s settings at its first start (audited); changed there later.')
param adminObjectIds string

@description('The Teams app id (the manifest id), for the bot\'s links that open a run in the tab.')
param teamsAppId string = ''

@description('How the app gets Microsoft Graph tokens: ManagedIdentityFederation (no secret; the default) or ClientSecret (fallback, docs/deploy.md).')
@allowed(['ManagedIdentityFederation', 'ClientSecret'])
param graphCredential string = 'ManagedIdentityFederation'

@secure()
@description('Only with graphCredential=ClientSecret: the app registration\'s client secret, stored in Key Vault.')
param clientSecret string = ''

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

// Azure allows only "extend" on a locked policy, so a later provisioning that sent the policy again
// would fail: create the policies on the first provisioning, then pass 'false' (docs/deploy.md).
@description('true on the first provisioning: creates the write-once policies of the raw and audit containers. false once they are locked.')
@allowed(['true', 'false'])
param createImmutabilityPolicies string = 'true'

@description('Days the logs (Key Vault audit, Storage data access, App Service) are kept: 4-730, or whole years up to 12 (1095, 1460, 1826, 2191, 2556, 2922, 3288, 3653, 4018, 4383). 2556 is 7 years.')
param logRetentionDays string = '2556'

@description('Redundancy of the records storage. Standard_GZRS (zones and a second region) unless the region has no availability zones: then Standard_GRS.')
@allowed(['Standard_GZRS', 'Standard_RAGZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_ZRS'])
param storageRedundancy string = 'Standard_GZRS'

@description('How Storage and Key Vault accept only the app: networkRules (firewall with the app\'s subnet) or privateEndpoints (no public endpoint at all).')
@allowed(['networkRules', 'privateEndpoints'])
param networkIsolation string = 'networkRules'

@description('Address space of the virtual network the app joins; change it if it overlaps networks you peer with.')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('App Service plan size. Basic (B1) or larger: the connector needs Always On and virtual network integration.')
param appServiceSku string = 'B1'

@description('The worker image in this deployment\'s container registry, as repository:tag (e.g. "archiver-worker:0.1.0", docs/deploy.md "Workers"). Empty: no workers; the web app does each run in its own process.')
param workerImage string = ''

// A whole number, taken as text like the other numbers the lifecycle file fills from .env files.
@description('With workerImage: the most worker replicas at once, 1-1000. Graph\'s limits are per mailbox, so more workers help only while many mailboxes are busy (docs/deploy.md).')
param maxWorkers string = '10'

@description('TeleMessage delivers by SFTP (ZIPs of EML files): the SSH public key TeleMessage gives for its SFTP user, one line ("ssh-rsa AAAA... comment"). Empty: no SFTP landing account is made.')
param telemessageSftpPublicKey string = ''

@description('With telemessageSftpPublicKey: the addresses TeleMessage connects from, comma-separated IPv4 addresses or CIDR ranges, the only ones the landing account accepts besides the app.')
param telemessageSftpSourceAddresses string = ''

var suffix = uniqueString(resourceGroup().id)
var tenantId = tenant().tenantId
// Each character of resourceBaseName, checked against what storage account names allow.
var baseNameChars = map(range(0, length(resourceBaseName)), i => substring(resourceBaseName, i, 1))
var baseNameIsValid = empty(filter(baseNameChars, c => !contains('abcdefghijklmnopqrstuvwxyz0123456789', c))) && contains('abcdefghijklmnopqrstuvwxyz', first(baseNameChars))
// An invalid name makes the storage account's name invalid too, so preflight validation refuses the
// whole deployment with this text in its message, before any resource is created.
var storageAccountName = baseNameIsValid ? take('${resourceBaseName}${suffix}', 24) : 'INVALID resourceBaseName: use 3-11 lowercase letters and digits, starting with a letter'
var webAppName = '${resourceBaseName}-${suffix}'
// The App Service's own host name: this template binds no custom domain.
var appPublicUrl = 'https://${webAppName}.azurewebsites.net'
var usePrivateEndpoints = networkIsolation == 'privateEndpoints'
var logRetention = int(logRetentionDays)
var telemessageSecretName = 'telemessage-password'
var graphSecretName = 'graph-client-secret'
// Must match importer/state/tableNames.ts (a unit test compares them).
var tableNames = ['connector', 'mappings', 'runs', 'deliveries', 'runlog', 'unmapped', 'dailycounts', 'inbox', 'landingzips', 'unitresults', 'conversations', 'notifications']
var useSftp = !empty(telemessageSftpPublicKey)
// The SFTP landing account: an account of its own, so SFTP (and its local user) never touch the records.
var sftpAccountName = baseNameIsValid ? take('${resourceBaseName}sftp${suffix}', 24) : 'INVALID resourceBaseName: use 3-11 lowercase letters and digits, starting with a letter'
var sftpContainerName = 'telemessage'
var sftpUserName = 'telemessage'
var sftpSourceAddresses = filter(map(split(telemessageSftpSourceAddresses, ','), a => trim(a)), a => !empty(a))
var useWorkers = !empty(workerImage)
// The Storage queue that carries a run's delivery units (one per mailbox) from the web app to the workers.
var workQueueName = 'delivery-units'
// Units one worker takes at once (its WORKER_CONCURRENCY), and so the queue length per replica the scale rule aims at.
var unitsPerWorker = 16
var registryName = take('${resourceBaseName}acr${suffix}', 50)
var roleIds = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

// ---------------------------------------------------------------- identity
// One identity for everything the app reaches in Azure (Storage, Key Vault) and for the bot itself.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${resourceBaseName}-identity'
  location: location
}

// ---------------------------------------------------------------- storage
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  // The records themselves: kept in more than one zone (and region) unless the admin chooses otherwise.
  sku: { name: storageRedundancy }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Only Entra identities reach the data: no account keys, no SAS signed with them.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    // Only the app and its workers reach the data: from their subnets (networkRules), or only through private endpoints.
    publicNetworkAccess: usePrivateEndpoints ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      virtualNetworkRules: usePrivateEndpoints ? [] : [{ id: appSubnetId, action: 'Allow' }, { id: workersSubnetId, action: 'Allow' }]
      ipRules: []
    }
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
    // Container-level WORM protects raw items without versions; versions would only add cost.
    isVersioningEnabled: false
  }
}

resource rawContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'raw'
  properties: { publicAccess: 'None' }
}

// Raw items are write-once: nobody, the app included, can change or delete one before the period ends.
resource rawImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (createImmutabilityPolicies == 'true') {
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
resource auditImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (createImmutabilityPolicies == 'true') {
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

// Custom mapping versions, one blob each, written once and kept (blob versioning covers mistakes);
// no policy, because a version that loses its activation race is deleted before anyone sees it.
resource mappingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'mappings'
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

// A run's delivery units, one message per mailbox: the web app puts them, the workers take them.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource workQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: workQueueName
}

// Put, read and delete queue messages (the web app, the workers, and the workers' scale rule, which
// reads the queue's length as the identity). Granted with or without workers, so the role has long
// reached Storage when workers are added later and the web app starts using the queue.
resource queueDataRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roleIds.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- sftp landing (TeleMessage's ZIP drop)
// Only when TeleMessage delivers by SFTP. Hierarchical namespace is what SFTP requires; the one local
// user signs in with TeleMessage's SSH key (no password, no shared key) and reaches only its container.
resource sftpStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = if (useSftp) {
  name: sftpAccountName
  location: location
  kind: 'StorageV2'
  sku: { name: storageRedundancy }
  properties: {
    isHnsEnabled: true
    isSftpEnabled: true
    isLocalUserEnabled: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // The app reaches the data as its identity; TeleMessage as the local user over SFTP: no account keys.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    // TeleMessage connects from the internet (port 22), only from its own addresses; the app from its subnet.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      virtualNetworkRules: usePrivateEndpoints ? [] : [{ id: appSubnetId, action: 'Allow' }]
      ipRules: [for address in sftpSourceAddresses: { value: address, action: 'Allow' }]
    }
  }
}

resource sftpBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = if (useSftp) {
  parent: sftpStorage
  name: 'default'
}

resource sftpContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (useSftp) {
  parent: sftpBlobService
  name: sftpContainerName
  properties: { publicAccess: 'None' }
}

// TeleMessage may list, read, create and write in its container; it cannot delete, so a ZIP set
// aside under rejected/ stays there for the admin (and TeleMessage can read why).
resource sftpLocalUser 'Microsoft.Storage/storageAccounts/localUsers@2023-05-01' = if (useSftp) {
  parent: sftpStorage
  name: sftpUserName
  properties: {
    hasSshKey: true
    hasSshPassword: false
    hasSharedKey: false
    homeDirectory: sftpContainerName
    permissionScopes: [{ permissions: 'rcwl', service: 'blob', resourceName: sftpContainerName }]
    sshAuthorizedKeys: [{ description: 'TeleMessage', key: telemessageSftpPublicKey }]
  }
}

// The app reads the ZIPs and moves refused ones under rejected/: read/write on that container only.
resource sftpContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useSftp) {
  name: guid(sftpAccountName, sftpContainerName, identity.id, roleIds.storageBlobDataContributor)
  scope: sftpContainer
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
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: usePrivateEndpoints ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      // Trusted Microsoft services only; they still need a role on the vault, and none has one.
      bypass: 'AzureServices'
      virtualNetworkRules: usePrivateEndpoints ? [] : [{ id: appSubnetId }]
      ipRules: []
    }
  }
}

// Only for the client-secret fallback: with the federated credential there is no Graph secret at all.
resource clientSecretEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (graphCredential == 'ClientSecret') {
  parent: vault
  name: graphSecretName
  properties: { value: clientSecret }
}

resource telemessagePasswordEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: telemessageSecretName
  properties: { value: telemessagePassword }
}

// Read access to every secret: the app reads the TeleMessage password (and App Service resolves CLIENT_SECRET in the fallback).
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
    // Interactive retention is at most 2 years; the tables below keep their rows for the whole period.
    retentionInDays: min(logRetention, 730)
  }
}

// The tables the diagnostic settings below write to, each kept for logRetentionDays in total
// (queryable for the first two years, then in long-term retention, still searchable).
var retainedTables = [
  'AZKVAuditLogs'
  // Key Vault audit events land here instead whenever they are not sent to their resource-specific table.
  'AzureDiagnostics'
  'StorageBlobLogs'
  'StorageTableLogs'
  'AppServiceHTTPLogs'
  'AppServiceConsoleLogs'
  'AppServiceAppLogs'
  'AppServiceAuditLogs'
  'AppServiceIPSecAuditLogs'
  'AppServicePlatformLogs'
  'AppServiceAuthenticationLogs'
  // The workers' console output and the Container Apps platform's events (scaling, image pulls, restarts).
  'ContainerAppConsoleLogs'
  'ContainerAppSystemLogs'
]

resource logTables 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = [
  for name in retainedTables: {
    parent: logs
    name: name
    properties: {
      retentionInDays: min(logRetention, 730)
      totalRetentionInDays: logRetention
    }
  }
]

// Who read or changed which secret, when, from where.
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'records-logs'
  scope: vault
  properties: {
    workspaceId: logs.id
    logAnalyticsDestinationType: 'Dedicated'
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

// Every read, write and delete of a raw item, an audit blob or the run lease.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'records-logs'
  scope: blobService
  properties: {
    workspaceId: logs.id
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
  }
}

// Every ZIP TeleMessage wrote over SFTP, and every one the app read or set aside.
resource sftpDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (useSftp) {
  name: 'records-logs'
  scope: sftpBlobService
  properties: {
    workspaceId: logs.id
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
  }
}

// Every read and write of the connector's state: settings, mappings, runs, deliveries.
resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'records-logs'
  scope: tableService
  properties: {
    workspaceId: logs.id
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
  }
}

// Requests, the app's own log lines, deployments and sign-ins to the management site: every log
// category the web app has ('allLogs'), since the categories differ between Linux and Windows
// apps and naming one the app lacks fails the deployment.
resource webAppDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'records-logs'
  scope: webApp
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

// The workers' console output and the platform's events about them: scaling, image pulls, restarts.
resource workerDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (useWorkers) {
  name: 'records-logs'
  scope: workerEnvironment
  properties: {
    workspaceId: logs.id
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      { category: 'ContainerAppConsoleLogs', enabled: true }
      { category: 'ContainerAppSystemLogs', enabled: true }
    ]
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

// ---------------------------------------------------------------- network
// The app joins this network; Storage and Key Vault accept only its subnet (networkRules), or have
// no public endpoint and are reached through private endpoints in the second subnet (privateEndpoints).
resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: '${resourceBaseName}-vnet'
  location: location
  properties: {
    addressSpace: { addressPrefixes: [vnetAddressPrefix] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 1)
          delegations: [{ name: 'app-service', properties: { serviceName: 'Microsoft.Web/serverFarms' } }]
          serviceEndpoints: usePrivateEndpoints ? [] : [{ service: 'Microsoft.Storage' }, { service: 'Microsoft.KeyVault' }]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 2)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        // The workers' Container Apps environment: a workload-profiles environment takes a subnet
        // of its own (a /27 or larger), delegated to it. Storage accepts it like the app's.
        name: 'workers'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 3)
          delegations: [{ name: 'container-apps', properties: { serviceName: 'Microsoft.App/environments' } }]
          serviceEndpoints: usePrivateEndpoints ? [] : [{ service: 'Microsoft.Storage' }]
        }
      }
    ]
  }
}

// Read from the network itself, so whatever uses a subnet waits until the network exists.
var appSubnetId = vnet.properties.subnets[0].id
var endpointSubnetId = vnet.properties.subnets[1].id
var workersSubnetId = vnet.properties.subnets[2].id

// privateEndpoints only: one endpoint per service the app reaches, and the DNS zone that resolves
// the service's usual host name to it from inside the network.
var privateEndpoints = [
  { name: 'blob', target: storage.id, groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'table', target: storage.id, groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { name: 'queue', target: storage.id, groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { name: 'vault', target: vault.id, groupId: 'vault', zone: 'privatelink.vaultcore.azure.net' }
]

resource privateZones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for e in privateEndpoints: if (usePrivateEndpoints) {
    name: e.zone
    location: 'global'
  }
]

resource privateZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (e, i) in privateEndpoints: if (usePrivateEndpoints) {
    parent: privateZones[i]
    name: '${resourceBaseName}-vnet'
    location: 'global'
    properties: {
      virtualNetwork: { id: vnet.id }
      registrationEnabled: false
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2023-11-01' = [
  for e in privateEndpoints: if (usePrivateEndpoints) {
    name: '${resourceBaseName}-${e.name}-endpoint'
    location: location
    properties: {
      subnet: { id: endpointSubnetId }
      privateLinkServiceConnections: [{ name: e.name, properties: { privateLinkServiceId: e.target, groupIds: [e.groupId] } }]
    }
  }
]

resource endpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = [
  for (e, i) in privateEndpoints: if (usePrivateEndpoints) {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: e.name, properties: { privateDnsZoneId: privateZones[i].id } }]
    }
  }
]

// privateEndpoints only: the app reaches the landing account through an endpoint of its own, named
// in the same blob zone; TeleMessage still reaches its public SFTP endpoint from its addresses.
resource sftpEndpoint 'Microsoft.Network/privateEndpoints@2023-11-01' = if (useSftp && usePrivateEndpoints) {
  name: '${resourceBaseName}-sftp-blob-endpoint'
  location: location
  properties: {
    subnet: { id: endpointSubnetId }
    privateLinkServiceConnections: [{ name: 'sftp-blob', properties: { privateLinkServiceId: sftpStorage.id, groupIds: ['blob'] } }]
  }
}

resource sftpEndpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = if (useSftp && usePrivateEndpoints) {
  parent: sftpEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [{ name: 'blob', properties: { privateDnsZoneId: privateZones[0].id } }]
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

var appSettings = [
  { name: 'NODE_ENV', value: 'production' }
  { name: 'PUBLIC_URL', value: appPublicUrl }
  { name: 'TENANT_ID', value: tenantId }
  { name: 'CLIENT_ID', value: clientId }
  { name: 'GRAPH_CREDENTIAL', value: graphCredential }
  { name: 'BOT_ID', value: identity.properties.clientId }
  // The bot (Microsoft 365 Agents SDK, auth type UserManagedIdentity) gets its Bot Connector tokens as
  // the identity from App Service's identity endpoint: no bot secret, no other setting.
  { name: 'BOT_APP_TYPE', value: 'UserAssignedMSI' }
  { name: 'MANAGED_IDENTITY_CLIENT_ID', value: identity.properties.clientId }
  { name: 'STORAGE_ACCOUNT_NAME', value: storage.name }
  { name: 'KEY_VAULT_URL', value: vault.properties.vaultUri }
  { name: 'TELEMESSAGE_SECRET_NAME', value: telemessageSecretName }
  { name: 'TELEMESSAGE_BASE_URL', value: telemessageBaseUrl }
  { name: 'ADMIN_OBJECT_IDS', value: adminObjectIds }
  { name: 'TEAMS_APP_ID', value: teamsAppId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'ApplicationInsightsAgent_EXTENSION_VERSION', value: '~3' }
  // The package is built before deployment (npm ci, npm run build) and runs as uploaded.
  { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'false' }
  { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '1' }
  // glibc's allocator, tuned so freed Buffers go back to the system (server/runtimeEnv.ts says why).
  { name: 'MALLOC_ARENA_MAX', value: '2' }
  { name: 'MALLOC_MMAP_THRESHOLD_', value: '32768' }
]

// TeleMessage's SFTP drop, when there is one: the landing account and container the importer takes ZIPs from.
var sftpSettings = useSftp
  ? [
      { name: 'SFTP_STORAGE_ACCOUNT_NAME', value: sftpAccountName }
      { name: 'SFTP_CONTAINER', value: sftpContainerName }
    ]
  : []

// With workers only: the web app puts each run's units on the queue and waits for their results.
// Without, the setting stays unset and the web app does the whole run itself (a queue nobody takes
// from would leave every run waiting).
var workQueueSettings = useWorkers ? [{ name: 'WORK_QUEUE_NAME', value: workQueueName }] : []

// The client-secret fallback only: App Service resolves the secret from Key Vault as the identity.
var graphSecretSettings = graphCredential == 'ClientSecret'
  ? [{ name: 'CLIENT_SECRET', value: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${graphSecretName})' }]
  : []

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  name: webAppName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  // A Key Vault reference resolved before its role assignment exists stays unresolved until the
  // next restart: create the app after the role (and the secret), so the first start resolves it.
  dependsOn: [secretsUserRole, clientSecretEntry, privateZoneLinks, endpointDns, sftpEndpointDns, queueDataRole, workQueue]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved as the user-assigned identity, not a system one.
    keyVaultReferenceIdentity: identity.id
    // Outbound traffic goes through the network, where Storage and Key Vault accept it.
    virtualNetworkSubnetId: appSubnetId
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
      vnetRouteAllEnabled: true
      healthCheckPath: '/healthz'
      appSettings: concat(appSettings, sftpSettings, graphSecretSettings, workQueueSettings)
    }
  }
}

// No publishing with user names and passwords, neither FTP nor the SCM (Kudu) site: deployments
// and SSH sign in with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: webApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: webApp
  name: 'scm'
  properties: { allow: false }
}

// ---------------------------------------------------------------- workers (Azure Container Apps)
// The image the workers run, built from the Dockerfile and pushed here (docs/deploy.md, "Workers").
// Made with or without workers, so the image can be pushed before the workers are provisioned.
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  sku: { name: 'Basic' }
  properties: {
    // No registry password: the workers pull as the identity, admins push with their Entra account.
    adminUserEnabled: false
  }
}

// Pull only, on this registry only.
resource acrPullRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, roleIds.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// In the network, in a subnet of its own, with no public address: the workers only reach out
// (Storage, Graph, the registry, Application Insights); nothing reaches in.
resource workerEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = if (useWorkers) {
  name: '${resourceBaseName}-workers'
  location: location
  properties: {
    // Logs go to the workspace through the diagnostic setting below: no workspace key here.
    appLogsConfiguration: { destination: 'azure-monitor' }
    vnetConfiguration: {
      infrastructureSubnetId: workersSubnetId
      internal: true
    }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
  }
}

// What each worker is given: the identity and the records storage, no TeleMessage, no bot, no Key Vault.
var workerSettings = [
  { name: 'NODE_ENV', value: 'production' }
  { name: 'TENANT_ID', value: tenantId }
  { name: 'CLIENT_ID', value: clientId }
  { name: 'GRAPH_CREDENTIAL', value: graphCredential }
  { name: 'MANAGED_IDENTITY_CLIENT_ID', value: identity.properties.clientId }
  { name: 'STORAGE_ACCOUNT_NAME', value: storage.name }
  { name: 'WORK_QUEUE_NAME', value: workQueueName }
  { name: 'WORKER_CONCURRENCY', value: string(unitsPerWorker) }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  // glibc's allocator, tuned as the web app's is (server/runtimeEnv.ts says why).
  { name: 'MALLOC_ARENA_MAX', value: '2' }
  { name: 'MALLOC_MMAP_THRESHOLD_', value: '32768' }
]

// The client-secret fallback only: Container Apps reads the secret from Key Vault as the identity.
var workerSecrets = graphCredential == 'ClientSecret'
  ? [{ name: graphSecretName, keyVaultUrl: '${vault.properties.vaultUri}secrets/${graphSecretName}', identity: identity.id }]
  : []
var workerSecretSettings = graphCredential == 'ClientSecret' ? [{ name: 'CLIENT_SECRET', secretRef: graphSecretName }] : []

// Identical workers that take delivery units from the queue. No ingress. KEDA's azure-queue scaler
// counts the queue's messages (taken or not) as the identity and runs one replica per
// unitsPerWorker of them, from none while no run is going up to maxWorkers.
// API version 2025-01-01: a stable one whose azure-queue rule takes accountName and a managed
// identity (2024-03-01's takes neither).
resource worker 'Microsoft.App/containerApps@2025-01-01' = if (useWorkers) {
  name: '${resourceBaseName}-worker'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [acrPullRole, queueDataRole, tableDataRole, blobDataRole, secretsUserRole, clientSecretEntry, workQueue, privateZoneLinks, endpointDns]
  properties: {
    environmentId: workerEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [{ server: registry.properties.loginServer, identity: identity.id }]
      secrets: workerSecrets
    }
    template: {
      containers: [
        {
          name: 'worker'
          // The image's command is the worker's: node with server/runtimeEnv.ts's flags, dist/server/worker.js.
          image: '${registry.properties.loginServer}/${workerImage}'
          env: concat(workerSettings, workerSecretSettings)
          resources: { cpu: json('1.0'), memory: '2Gi' }
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: int(maxWorkers)
        rules: [
          {
            name: 'delivery-units'
            azureQueue: {
              accountName: storage.name
              queueName: workQueueName
              queueLength: unitsPerWorker
              identity: identity.id
            }
          }
        ]
      }
    }
  }
}

// ---------------------------------------------------------------- entra id (Microsoft Graph extension)
// The app registration made in docs/deploy.md step 1, found by the uniqueName given to it there.
resource app 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: appUniqueName
}

// Workload identity federation: the app accepts a token of the managed identity as its credential,
// so it gets Graph tokens with no secret anywhere and nothing to rotate.
resource graphFederation 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/${resourceBaseName}-managed-identity'
  description: 'The connector\'s App Service, signed in as its user-assigned managed identity'
  issuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
  subject: identity.properties.principalId
  audiences: ['api://AzureADTokenExchange']
}

// The enterprise app: only users assigned (the admins' group) can get a token for the tab API.
resource appServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: clientId
  appRoleAssignmentRequired: true
}

resource adminsAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = {
  // The default access role: the app defines no roles of its own.
  appRoleId: '00000000-0000-0000-0000-000000000000'
  principalId: adminsGroupId
  resourceId: appServicePrincipal.id
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
// Where the worker image goes (docs/deploy.md, "Workers").
output CONTAINER_REGISTRY_NAME string = registry.name
// What the admin gives TeleMessage for its SFTP delivery (empty when there is none).
output SFTP_HOST string = useSftp ? '${sftpAccountName}.blob.${environment().suffixes.storage}' : ''
output SFTP_USERNAME string = useSftp ? '${sftpAccountName}.${sftpUserName}' : ''
