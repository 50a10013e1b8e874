// Static Web App (Standard) serving one of the two web apps: the clinician app (web/) or the
// patient app (patient/). It holds static files only and has NO linked backend: linking would
// replace the Authorization header with the Static Web App's own token and put App Service
// authentication in front of the Function App, which would refuse the phones and Event Grid.
// The web app calls the Function App's origin directly (apiBaseUrl in its config.json; CORS on the
// Function App names this app's origin; its CSP connect-src names the API origin).

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

@description('azd service name of the app this Static Web App serves: web (clinicians) or patient.')
@allowed([
  'web'
  'patient'
])
param serviceName string = 'web'

resource staticSite 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
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
