// Links the Function App to the Static Web App as its backend, so /api/* on the web app's own
// origin reaches the Functions API. A separate module because the Function App needs the
// Static Web App's URL (PUBLIC_BASE_URL, CORS) first.

@description('Name of the existing Static Web App.')
param staticWebAppName string

@description('Resource id of the Function App to link.')
param functionAppResourceId string

@description('Region of the Function App.')
param functionAppLocation string

resource staticSite 'Microsoft.Web/staticSites@2023-12-01' existing = {
  name: staticWebAppName
}

resource backend 'Microsoft.Web/staticSites/linkedBackends@2023-12-01' = {
  parent: staticSite
  name: 'api'
  properties: {
    backendResourceId: functionAppResourceId
    region: functionAppLocation
  }
}

output LINKED_BACKEND_ID string = backend.id
