// Every role assignment of SkinVault, least privilege, one per line of need. The Function App's
// user-assigned identity is the only principal given data access; nobody gets keys.

@description('Principal (object) id of the user-assigned managed identity the Function App runs as.')
param appPrincipalId string

@description('Principal id of the Event Grid system topic (writes dead-lettered events).')
param eventGridPrincipalId string

@description('Name of the main storage account.')
param storageAccountName string

@description('Name of the ingest storage account phones upload to.')
param ingestStorageAccountName string

@description('Queue on the ingest account the blob extension writes poison messages of process_upload to.')
param ingestPoisonQueueName string

@description('Container Event Grid dead-letters to.')
param deadLetterContainerName string

@description('Name of the Key Vault.')
param keyVaultName string

@description('Name of the key-encryption key.')
param kekName string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Name of the Cosmos DB database.')
param cosmosDatabaseName string

@description('Cosmos containers the app reads and writes (documents may be replaced and deleted).')
param cosmosReadWriteContainers array

@description('Cosmos container of the append-only audit log (create and read, never replace or delete).')
param cosmosAuditContainer string

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultCryptoServiceEncryptionUser: 'e147488a-f6f5-4113-8e2d-b22465e65bf6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
var cosmosDatabaseScope = '${cosmos.id}/dbs/${cosmosDatabaseName}'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource ingestStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: ingestStorageAccountName
}

resource ingestPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${ingestStorageAccountName}/default/${ingestPoisonQueueName}'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${storageAccountName}/default/${deadLetterContainerName}'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource kek 'Microsoft.KeyVault/vaults/keys@2023-07-01' existing = {
  parent: vault
  name: kekName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---------------------------------------------------------------- Storage (main account)
// App: blobs in images and exports; the Functions host's storage (AzureWebJobsStorage: receipts, leases, app package). Storage Blob Data Owner, not Contributor, because the Functions docs require Owner for an identity-based host storage connection (AzureWebJobsStorage__*), as the Azure-Samples Flex Consumption quickstarts assign it.
resource appBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: blob data in images/exports, Functions host storage (AzureWebJobsStorage).'
  }
}

// App (Functions host): diagnostic events in Table storage of AzureWebJobsStorage (AzureWebJobsStorage__tableServiceUri); without it the host logs AZFD0003.
resource appTableData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: Functions host diagnostic events (Table storage).'
  }
}

// App: queue triggers, sending notifications/export jobs and moving failed messages to -poison queues.
resource appQueueData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: notification and export queues and their poison queues.'
  }
}

// ---------------------------------------------------------------- Storage (ingest account)
// App: the process_upload blob trigger's connection (UPLOADS_STORAGE): read and delete uploads, and sign the phones' upload SAS (generateUserDelegationKey is account-level, so the scope is the account, which holds only uploads). Storage Blob Data Owner because the Functions docs require it for a blob trigger's identity-based connection.
resource appIngestBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ingestStorage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: ingestStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: blob trigger on uploads (process, delete) and user-delegation key for upload SAS URLs.'
  }
}

// App (Functions host): write poison messages of the process_upload blob trigger to its one queue on the ingest account, nothing else.
resource appIngestPoisonQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ingestPoisonQueue.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: ingestPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: blob trigger poison queue on the ingest account only.'
  }
}

// Event Grid: write undeliverable BlobCreated events to the dead-letter container (main account) only.
resource eventGridDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, eventGridPrincipalId, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: eventGridPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Event Grid system topic: dead-letter container only.'
  }
}

// ---------------------------------------------------------------- Key Vault
// App: read the KEK's public half and wrap/unwrap content keys with it; scoped to that one key, no sign/decrypt/create/delete.
resource appKekWrapUnwrap 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kek.id, appPrincipalId, roles.keyVaultCryptoServiceEncryptionUser)
  scope: kek
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoServiceEncryptionUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: wrapKey/unwrapKey (and read public key) on the KEK only.'
  }
}

// ---------------------------------------------------------------- Cosmos DB (data plane)
resource cosmosMetadataReader 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, 'skinvault-metadata-reader')
  properties: {
    roleName: 'SkinVault metadata reader'
    type: 'CustomRole'
    assignableScopes: [
      cosmos.id
    ]
    permissions: [
      {
        dataActions: [
          'Microsoft.DocumentDB/databaseAccounts/readMetadata'
        ]
      }
    ]
  }
}

resource cosmosDocumentsReadWrite 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, 'skinvault-documents-read-write')
  properties: {
    roleName: 'SkinVault documents read-write'
    type: 'CustomRole'
    assignableScopes: [
      cosmosDatabaseScope
    ]
    permissions: [
      {
        dataActions: [
          'Microsoft.DocumentDB/databaseAccounts/readMetadata'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/*'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery'
        ]
      }
    ]
  }
}

resource cosmosAuditAppend 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, 'skinvault-audit-append')
  properties: {
    roleName: 'SkinVault audit append-only'
    type: 'CustomRole'
    assignableScopes: [
      cosmosDatabaseScope
    ]
    permissions: [
      {
        dataActions: [
          'Microsoft.DocumentDB/databaseAccounts/readMetadata'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery'
        ]
      }
    ]
  }
}

// App: SDK start-up reads account metadata (no control-plane rights, no keys).
resource appCosmosMetadata 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, appPrincipalId, cosmosMetadataReader.id)
  properties: {
    roleDefinitionId: cosmosMetadataReader.id
    principalId: appPrincipalId
    scope: cosmos.id
  }
}

// App: create/read/replace/upsert/delete/query documents in patients, clinics, lookups (one assignment per container).
resource appCosmosReadWrite 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [for containerName in cosmosReadWriteContainers: {
  parent: cosmos
  name: guid(cosmos.id, appPrincipalId, cosmosDocumentsReadWrite.id, containerName)
  properties: {
    roleDefinitionId: cosmosDocumentsReadWrite.id
    principalId: appPrincipalId
    scope: '${cosmosDatabaseScope}/colls/${containerName}'
  }
}]

// App: append to and read the audit log; it can never replace or delete an audit record.
resource appCosmosAudit 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, appPrincipalId, cosmosAuditAppend.id, cosmosAuditContainer)
  properties: {
    roleDefinitionId: cosmosAuditAppend.id
    principalId: appPrincipalId
    scope: '${cosmosDatabaseScope}/colls/${cosmosAuditContainer}'
  }
}

// ---------------------------------------------------------------- Communication Services
// Custom role: the three actions ACS documents for sending email with an Entra ID identity.
// Name and display name are unique per deployment scope: the name is a guid of this resource
// group's id and the role's name, and the display name (unique per tenant) carries a token of the
// same id, so two environments (or two subscriptions with the same group name) never collide.
var acsEmailSenderRoleName = 'skinvault-acs-email-sender'

resource acsEmailSenderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, acsEmailSenderRoleName)
  properties: {
    roleName: 'SkinVault ACS email sender ${resourceGroup().name} ${uniqueString(resourceGroup().id)}'
    description: 'Send email through Azure Communication Services with an Entra ID identity, nothing else.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

// App: send notification emails through this ACS resource only.
resource appAcsSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, appPrincipalId, acsEmailSenderRole.id)
  scope: communicationService
  properties: {
    roleDefinitionId: acsEmailSenderRole.id
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: send notification emails.'
  }
}

// ---------------------------------------------------------------- Application Insights
// App: publish telemetry with an Entra token (local auth is disabled on the component).
resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'SkinVault API: telemetry ingestion with Entra ID auth.'
  }
}
