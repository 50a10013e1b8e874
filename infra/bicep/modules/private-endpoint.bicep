// One private endpoint for one sub-resource (blob, queue, table, vault, Sql) of one service, registered
// in the matching private DNS zone.

@description('Name of the private endpoint.')
param name string

@description('Azure region of the private endpoint (the region of the VNet).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Subnet the private endpoint takes an address from.')
param subnetId string

@description('Resource id of the service the endpoint connects to.')
param targetResourceId string

@description('Sub-resource (group id) of the service: blob, queue, table, vault or Sql.')
@allowed([
  'blob'
  'queue'
  'table'
  'vault'
  'Sql'
])
param groupId string

@description('Resource id of the private DNS zone the endpoint registers its address in.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource dnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

output PRIVATE_ENDPOINT_ID string = endpoint.id
