// Virtual network the Function App joins (Flex Consumption VNet integration) and the private
// endpoints of Key Vault, Cosmos DB and Storage live in, plus the private DNS zones that make
// the services' usual host names resolve to those private endpoints from inside the VNet.

@description('Name of the virtual network.')
param name string

@description('Azure region of the virtual network.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Address space of the virtual network.')
param addressPrefix string = '10.60.0.0/16'

@description('Subnet the Function App integrates with (delegated to Microsoft.App/environments, as Flex Consumption requires).')
param appSubnetPrefix string = '10.60.1.0/24'

@description('Subnet that holds the private endpoints.')
param privateEndpointSubnetPrefix string = '10.60.2.0/24'

@description('Prefix of the network security group names, from the abbreviations table.')
param nsgNamePrefix string = 'nsg-'

@description('Prefix of the subnet names, from the abbreviations table.')
param subnetNamePrefix string = 'snet-'

var privateDnsZoneNames = [
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.vaultcore.azure.net'
  'privatelink.documents.azure.com'
]

resource appNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${nsgNamePrefix}${name}-app'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource privateEndpointNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${nsgNamePrefix}${name}-pe'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  // checkov:skip=CKV_AZURE_182:Azure-provided DNS (168.63.129.16) is required so the linked private DNS zones resolve; custom DNS servers would bypass them.
  // checkov:skip=CKV_AZURE_183:Same reason: the VNet deliberately uses Azure-provided DNS, which is what resolves the private endpoint zones.
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: '${subnetNamePrefix}app'
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: {
            id: appNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: '${subnetNamePrefix}private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: privateEndpointNsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource dnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zoneName in privateDnsZoneNames: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource dnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in privateDnsZoneNames: {
  parent: dnsZones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

output VNET_ID string = vnet.id
output APP_SUBNET_ID string = vnet.properties.subnets[0].id
output PRIVATE_ENDPOINT_SUBNET_ID string = vnet.properties.subnets[1].id
output BLOB_DNS_ZONE_ID string = dnsZones[0].id
output QUEUE_DNS_ZONE_ID string = dnsZones[1].id
output TABLE_DNS_ZONE_ID string = dnsZones[2].id
output KEY_VAULT_DNS_ZONE_ID string = dnsZones[3].id
output COSMOS_DNS_ZONE_ID string = dnsZones[4].id
