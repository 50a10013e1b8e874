// User-assigned managed identity of the Function App: the only principal that touches data.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to every resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output RESOURCE_ID string = identity.id
output NAME string = identity.name
output CLIENT_ID string = identity.properties.clientId
output PRINCIPAL_ID string = identity.properties.principalId
