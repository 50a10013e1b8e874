// Key Vault (Premium, HSM-backed keys) that holds the key-encryption key (KEK, kek.bicep). Every
// blob's content key is wrapped under it; unwrap happens inside the HSM. RBAC only, purge
// protection, 90-day soft delete, reachable only through its private endpoint. The key is a
// separate module because an RBAC vault refuses key creation to a plain Owner: the deploying
// principal is given Key Vault Crypto Officer on the vault first (rbac-deployer.bicep).

@description('Name of the Key Vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the Key Vault.')
param location string

@description('Tags applied to every resource.')
param tags object

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

output NAME string = vault.name
output RESOURCE_ID string = vault.id
output URI string = vault.properties.vaultUri
