// Ingest storage account: the only place phones write to. Phones PUT v2 ciphertext straight to
// Blob Storage with a one-blob, create/write-only user-delegation SAS that lasts at most 15 minutes.
// They connect from any mobile network, so this account's firewall must let the public internet in.
// Because of that it holds one thing only: the `uploads` container (ciphertext the phone encrypted
// under our KEK and cannot decrypt itself). process_upload (blob trigger, connection UPLOADS_STORAGE,
// Event Grid source) verifies each upload, re-encrypts it into the main account's `images`
// container, and then deletes it. The main account (storage.bicep) stays closed (default action Deny,
// private endpoints only).
// Entra ID only: shared keys are off, so no account or service SAS can exist. The only SAS that
// works is a user-delegation SAS, which the app's identity signs for one blob at a time.

@description('Name of the ingest storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the storage account.')
param location string

@description('Tags applied to every resource.')
param tags object

// Not called skuName: checkov resolves parameter defaults by name across files, so a shared name
// would let this module's value leak into its check of storage.bicep (and back).
@description('Replication. Uploads are transient (deleted once processed, at the latest by the lifecycle rule), so zone redundancy in one UK region is enough.')
@allowed([
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param ingestSkuName string = 'Standard_ZRS'

@description('Days after which an upload still in the uploads container is stale and deleted by the lifecycle rule.')
@minValue(1)
param staleUploadDays int = 1

@description('Days a deleted upload is kept (blob soft delete). Short: processed uploads are deleted on purpose, and erasure must be final soon.')
@minValue(1)
@maxValue(7)
param softDeleteDays int = 1

@description('Browser origins allowed to PUT uploads (the patient web app). Empty: no CORS rule.')
param uploadCorsOrigins array = []

@description('Days a deleted container is kept (container soft delete): time to notice that someone deleted uploads by mistake.')
@minValue(1)
@maxValue(365)
param containerSoftDeleteDays int = 7

// shared_code.ports.UPLOADS: the only container here (tests/infra checks it against the code).
var uploadsContainerName = 'uploads'
// Poison queue of the blob extension: after the last retry of process_upload, the Functions host
// writes a message for the blob to this queue, on the account of the trigger's connection
// (UPLOADS_STORAGE), so the account needs its queue service and this one queue. It holds blob
// names only, never contents.
var blobTriggerPoisonQueueName = 'webjobs-blobtrigger-poison'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:Phones upload from any mobile or home network, so the default network action must be Allow; each request still needs a one-blob, create/write-only, 15-minute user-delegation SAS (shared keys off), and the account holds nothing but in-flight ciphertext.
  // checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) rather than geo-redundant, by choice: uploads are transient ciphertext kept for minutes (a day at most), a lost upload is simply retried from the phone with a new upload URL, and the app that processes them runs in the same region; the main account, which keeps the images, is GZRS.
  // checkov:skip=CKV_AZURE_59:Same reason: phones on the public internet must reach this account; the app itself uses private endpoints, and data in the account is client-side encrypted ciphertext that is deleted within a day.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: ingestSkuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    // Copy operations (Put Blob From URL, Copy Blob) may only read from accounts in our own Entra tenant,
    // so a SAS holder cannot make this account pull content from an arbitrary URL.
    allowedCopyScope: 'AAD'
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
      ipRules: []
      virtualNetworkRules: []
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

// No versioning: uploads are transient. process_upload deletes each one after it is processed, and
// the lifecycle rule deletes any that are left. Versions would keep deleted patient ciphertext
// beyond erasure, and nothing ever reads an older version. CORS: the native app needs none; the
// patient web app (a browser) PUTs ciphertext here with its upload SAS, so its origin, and only
// its origin, may PUT (single blob or blocks) with the x-ms-* headers the upload sends.
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    cors: {
      corsRules: empty(uploadCorsOrigins) ? [] : [
        {
          allowedOrigins: uploadCorsOrigins
          allowedMethods: [
            'PUT'
          ]
          allowedHeaders: [
            'content-type'
            'content-length'
            'x-ms-*'
          ]
          exposedHeaders: [
            'etag'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
    isVersioningEnabled: false
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: containerSoftDeleteDays
    }
  }
}

resource uploadsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: uploadsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource blobTriggerPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: blobTriggerPoisonQueueName
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'remove-stale-uploads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${uploadsContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: staleUploadDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output NAME string = storage.name
output RESOURCE_ID string = storage.id
output BLOB_ENDPOINT string = storage.properties.primaryEndpoints.blob
output QUEUE_ENDPOINT string = storage.properties.primaryEndpoints.queue
output UPLOADS_CONTAINER_NAME string = uploadsContainerName
output POISON_QUEUE_NAME string = blobTriggerPoisonQueueName
