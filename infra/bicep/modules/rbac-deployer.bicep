// The one role assignment the deploying principal needs during the deployment itself, kept apart
// from rbac.bicep because it must exist BEFORE the KEK is created (kek.bicep depends on this
// module), while rbac.bicep scopes the app's KEK role to that key and so runs after it.
// An RBAC-authorised vault refuses key creation to Owner/Contributor (control-plane roles): the
// key is created through the data plane on the deployer's behalf, which needs Key Vault Crypto
// Officer. Remove the assignment after the first deployment if your policy wants no standing
// access (later deployments leave the existing key alone, but re-create the assignment).

@description('Name of the Key Vault.')
param keyVaultName string

@description('Object id of the principal running the deployment (az ad signed-in-user show --query id -o tsv, or the pipeline service principal).')
param deployerPrincipalId string

@description('Kind of principal running the deployment.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

var keyVaultCryptoOfficer = '14b46e9e-c2b7-41b4-b07b-48a6ebf60603'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// Deployer: create the KEK and its rotation policy (data-plane key management on this vault only).
resource deployerKeyOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, deployerPrincipalId, keyVaultCryptoOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    description: 'SkinVault deployment: create the key-encryption key and its rotation policy.'
  }
}

output ROLE_ASSIGNMENT_ID string = deployerKeyOfficer.id
