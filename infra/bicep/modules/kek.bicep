// The key-encryption key (KEK): RSA-HSM, wrapKey/unwrapKey only, with a rotation policy. Created
// after the deploying principal holds Key Vault Crypto Officer on the vault (rbac-deployer.bicep):
// an RBAC-authorised vault refuses key creation (a data-plane action) to a principal that has only
// Owner or Contributor, which are control-plane roles.

@description('Name of the existing Key Vault.')
param vaultName string

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

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
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

output KEY_NAME string = kek.name
output KEY_ID string = kek.id
