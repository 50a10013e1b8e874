// Main storage account: the app's data (images, exports, queues) and the Functions host
// (AzureWebJobsStorage: blob receipts, the blob trigger's internal queue, leases, the host's
// diagnostic events in Table storage; Flex Consumption deployment package). Entra ID only (shared keys off), closed to the internet (default action
// Deny): the app reaches it through private endpoints. Phones never talk to this account: their
// uploads go to the separate ingest account (ingest-storage.bicep).

@description('Name of the storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the storage account.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Replication. Geo-redundant SKUs replicate uksouth to its pair ukwest, so data stays in the UK.')
@allowed([
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_GZRS'

@description('Container the Flex Consumption platform deploys the app package to.')
param deploymentContainerName string = 'app-package'

@description('Container Event Grid dead-letters undeliverable BlobCreated events to.')
param deadLetterContainerName string = 'eventgrid-deadletter'

@description('Days after which an export package is expired and deleted (EXPORT_TTL_HOURS rounded up to days).')
@minValue(1)
param exportRetentionDays int = 1

@description('Days deleted blobs, containers and previous versions are kept before they are gone for good (erasure completes after this). Point-in-time restore reaches back one day less.')
@minValue(2)
@maxValue(365)
param softDeleteDays int = 7

@description('Public IP ranges (CIDR) allowed through the storage firewall, e.g. the fixed egress of an operator network. Empty: none. Phones never need this: they upload to the ingest account.')
param allowedIpRanges array = []

// Names the code uses: shared_code.ports.BLOB_CONTAINERS except uploads (which lives on the ingest
// account), and QUEUES (+ the -poison queue the Functions host moves a message to after its last
// retry). tests/infra checks they match.
var imagesContainerName = 'images'
var exportsContainerName = 'exports'
var dataContainerNames = [
  imagesContainerName
  exportsContainerName
]
var queueNames = [
  'notifications'
  'notifications-poison'
  'export-jobs'
  'export-jobs-poison'
]
var allContainerNames = concat(dataContainerNames, [
  deploymentContainerName
  deadLetterContainerName
])

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59:publicNetworkAccess stays Enabled only so the firewall exceptions (trusted Azure services such as Event Grid dead-lettering, allowedIpRanges) can apply; defaultAction is Deny and the app itself uses private endpoints.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      ipRules: [for cidr in allowedIpRanges: {
        value: cidr
        action: 'Allow'
      }]
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

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Recovery (infra/README.md, "Restore"): versions and soft delete undo an overwrite or a delete
    // of one blob; point-in-time restore (needs versioning, change feed and soft delete) rolls
    // block blobs back across whole containers; container soft delete undoes a deleted container.
    isVersioningEnabled: true
    changeFeed: {
      enabled: true
      retentionInDays: softDeleteDays
    }
    restorePolicy: {
      enabled: true
      days: softDeleteDays - 1
    }
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in allContainerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'remove-expired-exports'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${exportsContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: exportRetentionDays
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: exportRetentionDays
                }
              }
            }
          }
        }
        {
          name: 'remove-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: softDeleteDays
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
output TABLE_ENDPOINT string = storage.properties.primaryEndpoints.table
output DEPLOYMENT_CONTAINER_NAME string = deploymentContainerName
output DEAD_LETTER_CONTAINER_NAME string = deadLetterContainerName
