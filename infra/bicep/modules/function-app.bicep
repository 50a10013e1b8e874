// Flex Consumption Function App (Python 3.11) running as a user-assigned managed identity.
// Every connection is identity-based (<NAME>__serviceUri / __accountEndpoint, __credential,
// __clientId): no connection strings, keys or secrets in app settings. `appSettings` below sets
// every setting shared_code.config.SPEC reads in Azure (tests/infra checks it).

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the Function App and its plan.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('SKINVAULT_ENVIRONMENT: dev or prod.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID and every <NAME>__clientId).')
param identityClientId string

@description('Subnet the app integrates with (delegated to Microsoft.App/environments).')
param subnetId string

@description('Blob endpoint of the storage account (https://<account>.blob.core.windows.net/).')
param storageBlobEndpoint string

@description('Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Table endpoint of the storage account: the Functions host writes its diagnostic events there (AzureWebJobsStorage__tableServiceUri).')
param storageTableEndpoint string

@description('Blob endpoint of the ingest storage account phones upload to (UPLOADS_STORAGE__blobServiceUri).')
param uploadsBlobEndpoint string

@description('Queue endpoint of the ingest storage account: the blob extension keeps the poison queue of process_upload there (UPLOADS_STORAGE__queueServiceUri).')
param uploadsQueueEndpoint string

@description('Container the platform deploys the app package to.')
param deploymentContainerName string

@description('Cosmos DB account endpoint (COSMOS__accountEndpoint).')
param cosmosEndpoint string

@description('Cosmos DB database name (COSMOS_DATABASE).')
param cosmosDatabaseName string

@description('Key Vault URI (KEY_VAULT_URI).')
param keyVaultUri string

@description('Name of the key-encryption key in Key Vault (KEK_NAME).')
param kekName string

@description('Communication Services endpoint (ACS_ENDPOINT).')
param acsEndpoint string

@description('Sender address of notification emails (EMAIL_FROM_ADDRESS).')
param emailFromAddress string

@description('Base URL of the clinician web app (PUBLIC_BASE_URL).')
param publicBaseUrl string

@description('Application Insights connection string (not a secret: ingestion needs an Entra token, local auth is off).')
param applicationInsightsConnectionString string

@description('OIDC issuer of patient tokens (AUTH_PATIENT_ISSUER).')
param authPatientIssuer string

@description('Audience patient tokens must carry (AUTH_PATIENT_AUDIENCE).')
param authPatientAudience string

@description('JWKS URI of the patient issuer (AUTH_PATIENT_JWKS_URI).')
param authPatientJwksUri string

@description('OIDC issuer of clinician/admin tokens (AUTH_STAFF_ISSUER).')
param authStaffIssuer string

@description('Audience staff tokens must carry (AUTH_STAFF_AUDIENCE).')
param authStaffAudience string

@description('JWKS URI of the staff issuer (AUTH_STAFF_JWKS_URI).')
param authStaffJwksUri string

@description('App role that marks a clinician (AUTH_CLINICIAN_ROLE).')
param authClinicianRole string

@description('App role that marks an admin (AUTH_ADMIN_ROLE).')
param authAdminRole string

@description('Largest JSON request body accepted, bytes (MAX_REQUEST_BODY_BYTES).')
param maxRequestBodyBytes int

@description('Largest photo a patient may upload, bytes (MAX_UPLOAD_BYTES).')
param maxUploadBytes int

@description('Largest decoded image in pixels (MAX_IMAGE_PIXELS).')
param maxImagePixels int

@description('Lifetime of an upload SAS URL in minutes, at most 15 (UPLOAD_URL_MINUTES).')
@maxValue(15)
param uploadUrlMinutes int

@description('At most one new-photos email per case per this many minutes (NOTIFICATION_WINDOW_MINUTES).')
param notificationWindowMinutes int

@description('How long an export package is kept, hours (EXPORT_TTL_HOURS).')
param exportTtlHours int

@description('Origins allowed to call the API from a browser: exactly the two web apps (clinician and patient). The web apps call this origin directly; there is no Static Web App linked backend.')
param corsAllowedOrigins array

@description('Most instances Flex Consumption scales out to (40 is the least the plan accepts in most regions).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Spread the plan over availability zones.')
param zoneRedundant bool = true

var identityCredential = 'managedidentity'

// Every setting the code reads in Azure, plus the host's own identity-based connections.
// Local-only settings (STORAGE and UPLOADS_STORAGE connection strings, COSMOS_KEY, SQLITE_PATH,
// KEK_PEM_PATH, EMAIL_OUTBOX_DIR, DEV_ISSUER_KEY_PATH) are deliberately absent.
// UPLOADS_STORAGE is also the connection of the process_upload blob trigger. With an identity-based
// connection, the blob extension needs __queueServiceUri as well as __blobServiceUri, even with an
// Event Grid source. It builds a queue client from the connection when it indexes the function,
// and it writes poison messages to webjobs-blobtrigger-poison on that account. Its internal queue
// and blob receipts live in AzureWebJobsStorage (the main account); the host also writes its
// diagnostic events to Table storage there (AzureWebJobsStorage__tableServiceUri, event AZFD0003
// when it cannot).
var appSettings = {
  SKINVAULT_ENVIRONMENT: environmentName
  PUBLIC_BASE_URL: publicBaseUrl
  STORAGE__blobServiceUri: storageBlobEndpoint
  STORAGE__queueServiceUri: storageQueueEndpoint
  STORAGE__credential: identityCredential
  STORAGE__clientId: identityClientId
  UPLOADS_STORAGE__blobServiceUri: uploadsBlobEndpoint
  UPLOADS_STORAGE__queueServiceUri: uploadsQueueEndpoint
  UPLOADS_STORAGE__credential: identityCredential
  UPLOADS_STORAGE__clientId: identityClientId
  METADATA_STORE: 'cosmos'
  COSMOS__accountEndpoint: cosmosEndpoint
  COSMOS__credential: identityCredential
  COSMOS__clientId: identityClientId
  COSMOS_DATABASE: cosmosDatabaseName
  KEK_PROVIDER: 'keyvault'
  KEY_VAULT_URI: keyVaultUri
  KEK_NAME: kekName
  EMAIL_SENDER: 'acs'
  ACS_ENDPOINT: acsEndpoint
  EMAIL_FROM_ADDRESS: emailFromAddress
  AUTH_PATIENT_ISSUER: authPatientIssuer
  AUTH_PATIENT_AUDIENCE: authPatientAudience
  AUTH_PATIENT_JWKS_URI: authPatientJwksUri
  AUTH_STAFF_ISSUER: authStaffIssuer
  AUTH_STAFF_AUDIENCE: authStaffAudience
  AUTH_STAFF_JWKS_URI: authStaffJwksUri
  AUTH_CLINICIAN_ROLE: authClinicianRole
  AUTH_ADMIN_ROLE: authAdminRole
  DEV_ISSUER_ENABLED: 'false'
  MAX_REQUEST_BODY_BYTES: string(maxRequestBodyBytes)
  MAX_UPLOAD_BYTES: string(maxUploadBytes)
  MAX_IMAGE_PIXELS: string(maxImagePixels)
  UPLOAD_URL_MINUTES: string(uploadUrlMinutes)
  NOTIFICATION_WINDOW_MINUTES: string(notificationWindowMinutes)
  EXPORT_TTL_HOURS: string(exportTtlHours)
  AZURE_CLIENT_ID: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__credential: identityCredential
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone redundancy is the zoneRedundant parameter (true by default and in prod); dev turns it off because a zone-redundant Flex plan keeps two always-ready instances per function group, billed.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:The API is public by design: phones and the clinician web app call it over HTTPS with OIDC bearer tokens validated by the app.
  // checkov:skip=CKV_AZURE_16:Tokens come from two issuers (NHS login / Entra External ID for patients, Entra ID for staff) and are validated in code (JWKS, iss, aud, exp, nbf); App Service auth would accept only one.
  // checkov:skip=CKV_AZURE_17:Clients are phones and browsers authenticating with bearer tokens; client certificates do not apply.
  // checkov:skip=CKV_AZURE_213:Flex Consumption does not support the platform health check; GET /api/health reports each dependency for external probes.
  // checkov:skip=CKV_AZURE_212:Flex Consumption scales instances itself (maximumInstanceCount); a fixed minimum worker count does not apply to the plan.
  // checkov:skip=CKV_AZURE_78:Flex Consumption rejects siteConfig.ftpsState (ARM error 51021), so it is not set; FTP and basic-auth publishing are off through basicPublishingCredentialsPolicies ftp and scm below, and deployment goes to a blob container with the managed identity.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: subnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      // no ftpsState: Flex Consumption refuses it (ARM error 51021); ftpPublishing below turns FTP off
      http20Enabled: true
      remoteDebuggingEnabled: false
      vnetRouteAllEnabled: true
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output NAME string = site.name
output RESOURCE_ID string = site.id
output DEFAULT_HOSTNAME string = site.properties.defaultHostName
output URL string = 'https://${site.properties.defaultHostName}'
