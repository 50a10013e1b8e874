// Cosmos DB (NoSQL): the metadata store. Keys are disabled (Entra ID data-plane RBAC only),
// continuous backup gives point-in-time restore, and the account is reachable only through its
// private endpoint. Containers, partition keys and indexes follow shared_code.ports.CONTAINERS
// and the queries the Cosmos adapter runs (tests/infra checks names and keys).

@description('Name of the Cosmos DB account.')
param name string

@description('Azure region of the account (single region, UK).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the SQL database (COSMOS_DATABASE).')
param databaseName string = 'skinvault'

@description('serverless: pay per request (dev, low volume). autoscale: provisioned throughput shared by the containers, scaling between 10% and 100% of the maximum.')
@allowed([
  'serverless'
  'autoscale'
])
param capacityMode string = 'serverless'

@description('Maximum RU/s of the database when capacityMode is autoscale.')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Point-in-time restore window of continuous backup.')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param backupTier string = 'Continuous7Days'

@description('Spread the account over availability zones (not with serverless).')
param zoneRedundant bool = false

var isServerless = capacityMode == 'serverless'
var databaseOptions = isServerless ? {} : {
  autoscaleSettings: {
    maxThroughput: autoscaleMaxThroughput
  }
}
// Paths never filtered or sorted on: not indexed (cheaper writes).
var excludedPaths = [
  {
    path: '/"_etag"/?'
  }
  {
    path: '/notes/?'
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // Encryption at rest: service-managed keys. Photos and exports are app-encrypted under the Key Vault HSM key before storage, but Cosmos holds profile fields and notes: a Cosmos customer-managed key (second key, identity, vault trust) is open for the trust to decide.
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: isServerless ? false : zoneRedundant
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: isServerless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: backupTier
      }
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    publicNetworkAccess: 'Disabled'
    isVirtualNetworkFilterEnabled: true
    virtualNetworkRules: []
    ipRules: []
    networkAclBypass: 'None'
    minimalTlsVersion: 'Tls12'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    enableFreeTier: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: databaseOptions
  }
}

// patients (partition /patientId): profile, folders, images, shares, comments. Equality filters
// on type, folderId, status, clinicId, targetType/targetId; sorted by capturedAt (newest first),
// createdAt or grantedAt. One composite index per filter + ORDER BY combination.
resource patients 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'patients'
  properties: {
    resource: {
      id: 'patients'
      partitionKey: {
        paths: [
          '/patientId'
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
        compositeIndexes: [
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/folderId'
              order: 'ascending'
            }
            {
              path: '/capturedAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/folderId'
              order: 'ascending'
            }
            {
              path: '/status'
              order: 'ascending'
            }
            {
              path: '/capturedAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/capturedAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/createdAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/grantedAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/clinicId'
              order: 'ascending'
            }
            {
              path: '/grantedAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/targetType'
              order: 'ascending'
            }
            {
              path: '/targetId'
              order: 'ascending'
            }
            {
              path: '/createdAt'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/targetType'
              order: 'ascending'
            }
            {
              path: '/targetId'
              order: 'ascending'
            }
            {
              path: '/clinicId'
              order: 'ascending'
            }
            {
              path: '/createdAt'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// clinics (partition /clinicId): clinic, members, cases. Worklist (active, hasNew / awaitingTriage)
// newest activity first; members by name.
resource clinics 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'clinics'
  properties: {
    resource: {
      id: 'clinics'
      partitionKey: {
        paths: [
          '/clinicId'
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
        compositeIndexes: [
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/active'
              order: 'ascending'
            }
            {
              path: '/lastActivityAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/active'
              order: 'ascending'
            }
            {
              path: '/hasNew'
              order: 'ascending'
            }
            {
              path: '/lastActivityAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/active'
              order: 'ascending'
            }
            {
              path: '/awaitingTriage'
              order: 'ascending'
            }
            {
              path: '/lastActivityAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/lastActivityAt'
              order: 'descending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/name'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// audit (partition /patientId): append-only access log, newest first. No TTL: it outlives erasure.
resource audit 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'audit'
  properties: {
    resource: {
      id: 'audit'
      partitionKey: {
        paths: [
          '/patientId'
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
        compositeIndexes: [
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/at'
              order: 'descending'
            }
          ]
        ]
      }
    }
  }
}

// lookups (partition /key): share codes, memberships by sub, idempotency marks. Point reads;
// defaultTtl -1 lets an idempotency mark carry its own ttl.
resource lookups 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'lookups'
  properties: {
    resource: {
      id: 'lookups'
      partitionKey: {
        paths: [
          '/key'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
      }
    }
  }
}

output NAME string = account.name
output RESOURCE_ID string = account.id
output ENDPOINT string = account.properties.documentEndpoint
output DATABASE_NAME string = database.name
output READ_WRITE_CONTAINER_NAMES array = [
  patients.name
  clinics.name
  lookups.name
]
output AUDIT_CONTAINER_NAME string = audit.name
