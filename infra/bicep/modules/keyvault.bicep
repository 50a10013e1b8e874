// Key Vault (Premium, HSM-backed keys) holding the key-encryption key (KEK). Every blob's
// content key is wrapped under it; unwrap happens inside the HSM. RBAC only, purge protection,
// 90-day soft delete, reachable only through its private endpoint.

@description('Name of the Key Vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the Key Vault.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the RSA-HSM key-encryption key (KEK_NAME).')
param keyName string

@description('Size of the RSA-HSM key in bits (3072 or more).')
@allowed([
  3072
  4096
])
param keySize int = 3072

@description('Expiry of the first key version, as seconds since the epoch. Later versions get expiryTime from the rotation policy.')
param keyExpiryEpoch int

@description('Lifetime of each key version (ISO 8601 duration), set by the rotation policy.')
param keyExpiryTime string = 'P2Y'

@description('How long before expiry Key Vault rotates the key to a new version (ISO 8601 duration).')
param rotateBeforeExpiry string = 'P60D'

@description('How long before expiry Key Vault raises the KeyNearExpiry event (ISO 8601 duration).')
param notifyBeforeExpiry string = 'P30D'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'premium'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      ipRules: []
      virtualNetworkRules: []
    }
  }
}

resource kek 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: keyName
  tags: tags
  properties: {
    kty: 'RSA-HSM'
    keySize: keySize
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
    attributes: {
      enabled: true
      exp: keyExpiryEpoch
      exportable: false
    }
    rotationPolicy: {
      attributes: {
        expiryTime: keyExpiryTime
      }
      lifetimeActions: [
        {
          trigger: {
            timeBeforeExpiry: rotateBeforeExpiry
          }
          action: {
            type: 'rotate'
          }
        }
        {
          trigger: {
            timeBeforeExpiry: notifyBeforeExpiry
          }
          action: {
            type: 'notify'
          }
        }
      ]
    }
  }
}

output NAME string = vault.name
output RESOURCE_ID string = vault.id
output URI string = vault.properties.vaultUri
output KEY_NAME string = kek.name
output KEY_ID string = kek.id
