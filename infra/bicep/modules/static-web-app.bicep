// Static Web App (Standard) serving the clinician web app (web/). It holds static files only;
// patient data stays in the API in the UK region.

@description('Name of the Static Web App.')
param name string

@description('Region of the Static Web App control plane (Static Web Apps has no UK region; content is served from the global edge and holds no patient data).')
@allowed([
  'westeurope'
  'northeurope'
  'eastus2'
  'centralus'
  'westus2'
  'eastasia'
])
param location string

@description('Tags applied to every resource.')
param tags object

resource staticSite 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'web'
  })
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
    enterpriseGradeCdnStatus: 'Disabled'
  }
}

output NAME string = staticSite.name
output RESOURCE_ID string = staticSite.id
output DEFAULT_HOSTNAME string = staticSite.properties.defaultHostname
output URL string = 'https://${staticSite.properties.defaultHostname}'
