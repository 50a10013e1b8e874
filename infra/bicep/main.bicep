// SkinVault: everything the code needs in Azure, least privilege, UK-resident.
// Deploy: az deployment sub create --location uksouth --template-file infra/bicep/main.bicep \
//           --parameters @infra/bicep/parameters/main.dev.parameters.json   (see infra/README.md)
targetScope = 'subscription'

@description('Environment name: dev or prod. Becomes SKINVAULT_ENVIRONMENT and part of every name.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Region of every resource that holds data. UK regions only.')
@allowed([
  'uksouth'
  'ukwest'
])
param location string = 'uksouth'

@description('Region of the Static Web App control plane (Static Web Apps has no UK region; it serves static files only).')
@allowed([
  'westeurope'
  'northeurope'
])
param staticWebAppLocation string = 'westeurope'

@description('Name of the resource group. Empty: rg-skinvault-<environmentName>.')
param resourceGroupName string = ''

@description('Cosmos DB capacity: serverless (pay per request) or autoscale (provisioned, scales 10-100% of the maximum).')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosCapacityMode string = 'serverless'

@description('Maximum RU/s of the Cosmos database when cosmosCapacityMode is autoscale.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Cosmos DB continuous backup (point-in-time restore) window.')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param cosmosBackupTier string = 'Continuous7Days'

@description('Cosmos DB database name (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'skinvault'

@description('Spread the Function App plan and (autoscale) Cosmos DB over availability zones.')
param zoneRedundant bool = true

@description('Name of the key-encryption key in Key Vault (KEK_NAME).')
param kekName string = 'skinvault-kek'

@description('Size of the RSA-HSM key-encryption key in bits.')
@allowed([
  3072
  4096
])
param kekKeySize int = 3072

@description('Expiry of the first KEK version (seconds since the epoch). Default: two years from the first deployment; Key Vault ignores it on later deployments.')
param kekExpiryEpoch int = dateTimeToEpoch(dateTimeAdd(utcNow(), 'P2Y'))

@description('Lifetime of each KEK version (ISO 8601), from the rotation policy.')
param kekExpiryTime string = 'P2Y'

@description('Rotate the KEK this long before it expires (ISO 8601).')
param kekRotateBeforeExpiry string = 'P60D'

@description('Raise the KeyNearExpiry event this long before the KEK expires (ISO 8601).')
param kekNotifyBeforeExpiry string = 'P30D'

@description('Custom email sending domain. Empty: the Azure-managed domain only. Set it, deploy, verify its DNS records (infra/README.md), then set emailCustomDomainVerified.')
param emailCustomDomain string = ''

@description('True once emailCustomDomain is verified: only then is it linked and used as the sender (the Azure-managed domain stays linked).')
param emailCustomDomainVerified bool = false

@description('Local part of the sender address of notification emails.')
param emailSenderUsername string = 'DoNotReply'

@description('OIDC issuer of patient tokens: NHS login or Entra External ID (AUTH_PATIENT_ISSUER).')
param authPatientIssuer string

@description('Audience patient tokens must carry: the patient app registration (AUTH_PATIENT_AUDIENCE).')
param authPatientAudience string

@description('JWKS URI of the patient issuer (AUTH_PATIENT_JWKS_URI).')
param authPatientJwksUri string

@description('OIDC issuer of clinician/admin tokens. Empty: Entra ID v2 issuer of this tenant (AUTH_STAFF_ISSUER).')
param authStaffIssuer string = ''

@description('Audience staff tokens must carry: the clinician app registration (AUTH_STAFF_AUDIENCE).')
param authStaffAudience string

@description('JWKS URI of the staff issuer. Empty: Entra ID v2 keys of this tenant (AUTH_STAFF_JWKS_URI).')
param authStaffJwksUri string = ''

@description('App role that marks a clinician (AUTH_CLINICIAN_ROLE).')
param authClinicianRole string = 'SkinVault.Clinician'

@description('App role that marks an admin (AUTH_ADMIN_ROLE).')
param authAdminRole string = 'SkinVault.Admin'

@description('Base URL of the clinician web app used in emails. Empty: the Static Web App URL (PUBLIC_BASE_URL).')
param publicBaseUrl string = ''

@description('Largest JSON request body accepted, bytes (MAX_REQUEST_BODY_BYTES).')
@minValue(1)
param maxRequestBodyBytes int = 1048576

@description('Largest photo a patient may upload, bytes (MAX_UPLOAD_BYTES).')
@minValue(1)
param maxUploadBytes int = 26214400

@description('Largest decoded image in pixels (MAX_IMAGE_PIXELS).')
@minValue(1)
param maxImagePixels int = 60000000

@description('Lifetime of an upload SAS URL in minutes, at most 15 (UPLOAD_URL_MINUTES).')
@minValue(1)
@maxValue(15)
param uploadUrlMinutes int = 15

@description('At most one new-photos email per case per this many minutes (NOTIFICATION_WINDOW_MINUTES).')
@minValue(1)
param notificationWindowMinutes int = 15

@description('How long an export package is kept, hours (EXPORT_TTL_HOURS); the lifecycle rule deletes it after that many days rounded up.')
@minValue(1)
param exportTtlHours int = 24

@description('Days after which an upload left in the uploads container of the ingest account is stale and deleted.')
@minValue(1)
param staleUploadDays int = 1

@description('Days deleted blobs and previous blob versions are kept on the main account (erasure is final after this); blob point-in-time restore reaches back one day less.')
@minValue(2)
@maxValue(365)
param blobSoftDeleteDays int = 7

@description('Days deleted uploads are kept on the ingest account (short: uploads are transient).')
@minValue(1)
@maxValue(7)
param uploadSoftDeleteDays int = 1

@description('Public IP ranges (CIDR) allowed through the main storage account firewall, e.g. the fixed egress of an operator network. Empty: none. Phones do not need this: they upload to the ingest account.')
param storageAllowedIpRanges array = []

@description('Origin of the clinician web app when it has a custom domain (https://host). Empty: its Static Web App URL. CORS and PUBLIC_BASE_URL use it.')
param clinicianWebOrigin string = ''

@description('Origin of the patient web app when it has a custom domain (https://host). Empty: its Static Web App URL. CORS uses it.')
param patientWebOrigin string = ''

@description('Most instances the Function App scales out to (Flex Consumption accepts no fewer than 40 in most regions).')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Days logs and telemetry are kept.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('Subnet of the Function App VNet integration.')
param appSubnetPrefix string = '10.60.1.0/24'

@description('Subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.60.2.0/24'

@description('Object id of the principal running the deployment (az ad signed-in-user show --query id -o tsv, or the pipeline service principal): it gets Key Vault Crypto Officer on the vault so that it can create the KEK.')
param deployerPrincipalId string

@description('Kind of principal running the deployment.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Email address (ops team or shared mailbox) the alerts are sent to.')
param alertEmailAddress string

@description('Create the Event Grid subscription for BlobCreated on uploads. Set true on the deployment after the function code is published (Event Grid validates the webhook).')
param deployEventSubscription bool = false

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'skinvault'
  environment: environmentName
  'data-classification': 'patient-identifiable'
}
var staffIssuer = empty(authStaffIssuer) ? '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0' : authStaffIssuer
var staffJwksUri = empty(authStaffJwksUri) ? '${environment().authentication.loginEndpoint}${tenant().tenantId}/discovery/v2.0/keys' : authStaffJwksUri
var exportRetentionDays = (exportTtlHours + 23) / 24
var functionAppName = '${abbrs.webSitesFunctions}skinvault-${resourceToken}'
var clinicianOrigin = empty(clinicianWebOrigin) ? staticWebApp.outputs.URL : clinicianWebOrigin
var patientOrigin = empty(patientWebOrigin) ? patientWebApp.outputs.URL : patientWebOrigin

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}skinvault-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}skinvault-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}skinvault-${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}skinvault-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionDays
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}skinvault-${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    nsgNamePrefix: abbrs.networkNetworkSecurityGroups
    subnetNamePrefix: abbrs.networkVirtualNetworksSubnets
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    exportRetentionDays: exportRetentionDays
    softDeleteDays: blobSoftDeleteDays
    allowedIpRanges: storageAllowedIpRanges
  }
}

// Phones upload here (internet-facing, uploads container only); the main account stays private.
module ingestStorage 'modules/ingest-storage.bicep' = {
  name: 'ingest-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}ingest${resourceToken}'
    location: location
    tags: tags
    staleUploadDays: staleUploadDays
    softDeleteDays: uploadSoftDeleteDays
    uploadCorsOrigins: [
      patientOrigin
    ]
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
  }
}

// The deployer needs Key Vault Crypto Officer before the KEK can be created (RBAC vault).
module deployerRbac 'modules/rbac-deployer.bicep' = {
  name: 'rbac-deployer'
  scope: rg
  params: {
    keyVaultName: keyVault.outputs.NAME
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

module kek 'modules/kek.bicep' = {
  name: 'kek'
  scope: rg
  dependsOn: [
    deployerRbac
  ]
  params: {
    vaultName: keyVault.outputs.NAME
    tags: tags
    keyName: kekName
    keySize: kekKeySize
    keyExpiryEpoch: kekExpiryEpoch
    keyExpiryTime: kekExpiryTime
    rotateBeforeExpiry: kekRotateBeforeExpiry
    notifyBeforeExpiry: kekNotifyBeforeExpiry
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbrs.documentDBDatabaseAccounts}skinvault-${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    backupTier: cosmosBackupTier
    zoneRedundant: zoneRedundant
  }
}

module blobEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-blob'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${storage.outputs.NAME}-blob'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: storage.outputs.RESOURCE_ID
    groupId: 'blob'
    privateDnsZoneId: network.outputs.BLOB_DNS_ZONE_ID
  }
}

module queueEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-queue'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${storage.outputs.NAME}-queue'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: storage.outputs.RESOURCE_ID
    groupId: 'queue'
    privateDnsZoneId: network.outputs.QUEUE_DNS_ZONE_ID
  }
}

// The app reaches the ingest account privately too (the private DNS zones resolve its names to
// these endpoints inside the VNet); phones resolve the same names to its public endpoint.
module ingestBlobEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-ingest-blob'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${ingestStorage.outputs.NAME}-blob'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: ingestStorage.outputs.RESOURCE_ID
    groupId: 'blob'
    privateDnsZoneId: network.outputs.BLOB_DNS_ZONE_ID
  }
}

module ingestQueueEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-ingest-queue'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${ingestStorage.outputs.NAME}-queue'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: ingestStorage.outputs.RESOURCE_ID
    groupId: 'queue'
    privateDnsZoneId: network.outputs.QUEUE_DNS_ZONE_ID
  }
}

module keyVaultEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-vault'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${keyVault.outputs.NAME}'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: keyVault.outputs.RESOURCE_ID
    groupId: 'vault'
    privateDnsZoneId: network.outputs.KEY_VAULT_DNS_ZONE_ID
  }
}

// The Functions host writes diagnostic events to Table storage in AzureWebJobsStorage.
module tableEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-table'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${storage.outputs.NAME}-table'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: storage.outputs.RESOURCE_ID
    groupId: 'table'
    privateDnsZoneId: network.outputs.TABLE_DNS_ZONE_ID
  }
}

module cosmosEndpoint 'modules/private-endpoint.bicep' = {
  name: 'pep-cosmos'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}${cosmos.outputs.NAME}'
    location: location
    tags: tags
    subnetId: network.outputs.PRIVATE_ENDPOINT_SUBNET_ID
    targetResourceId: cosmos.outputs.RESOURCE_ID
    groupId: 'Sql'
    privateDnsZoneId: network.outputs.COSMOS_DNS_ZONE_ID
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    communicationServiceName: '${abbrs.communicationCommunicationServices}skinvault-${resourceToken}'
    emailServiceName: '${abbrs.communicationEmailServices}skinvault-${resourceToken}'
    tags: tags
    customDomainName: emailCustomDomain
    customDomainVerified: emailCustomDomainVerified
    senderUsername: emailSenderUsername
  }
}

// The two web apps: static files only, no linked backend (they call the Function App's origin).
module staticWebApp 'modules/static-web-app.bicep' = {
  name: 'static-web-app'
  scope: rg
  params: {
    name: '${abbrs.webStaticSites}skinvault-${resourceToken}'
    location: staticWebAppLocation
    tags: tags
    serviceName: 'web'
  }
}

module patientWebApp 'modules/static-web-app.bicep' = {
  name: 'patient-web-app'
  scope: rg
  params: {
    name: '${abbrs.webStaticSites}skinvault-patient-${resourceToken}'
    location: staticWebAppLocation
    tags: tags
    serviceName: 'patient'
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  dependsOn: [
    rbac
    blobEndpoint
    queueEndpoint
    ingestBlobEndpoint
    ingestQueueEndpoint
    tableEndpoint
    keyVaultEndpoint
    cosmosEndpoint
  ]
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}skinvault-${resourceToken}'
    location: location
    tags: tags
    environmentName: environmentName
    identityId: identity.outputs.RESOURCE_ID
    identityClientId: identity.outputs.CLIENT_ID
    subnetId: network.outputs.APP_SUBNET_ID
    storageBlobEndpoint: storage.outputs.BLOB_ENDPOINT
    storageQueueEndpoint: storage.outputs.QUEUE_ENDPOINT
    storageTableEndpoint: storage.outputs.TABLE_ENDPOINT
    uploadsBlobEndpoint: ingestStorage.outputs.BLOB_ENDPOINT
    uploadsQueueEndpoint: ingestStorage.outputs.QUEUE_ENDPOINT
    deploymentContainerName: storage.outputs.DEPLOYMENT_CONTAINER_NAME
    cosmosEndpoint: cosmos.outputs.ENDPOINT
    cosmosDatabaseName: cosmos.outputs.DATABASE_NAME
    keyVaultUri: keyVault.outputs.URI
    kekName: kek.outputs.KEY_NAME
    acsEndpoint: communication.outputs.ENDPOINT
    emailFromAddress: communication.outputs.EMAIL_FROM_ADDRESS
    publicBaseUrl: empty(publicBaseUrl) ? clinicianOrigin : publicBaseUrl
    applicationInsightsConnectionString: monitoring.outputs.APPLICATIONINSIGHTS_CONNECTION_STRING
    authPatientIssuer: authPatientIssuer
    authPatientAudience: authPatientAudience
    authPatientJwksUri: authPatientJwksUri
    authStaffIssuer: staffIssuer
    authStaffAudience: authStaffAudience
    authStaffJwksUri: staffJwksUri
    authClinicianRole: authClinicianRole
    authAdminRole: authAdminRole
    maxRequestBodyBytes: maxRequestBodyBytes
    maxUploadBytes: maxUploadBytes
    maxImagePixels: maxImagePixels
    uploadUrlMinutes: uploadUrlMinutes
    notificationWindowMinutes: notificationWindowMinutes
    exportTtlHours: exportTtlHours
    corsAllowedOrigins: [
      clinicianOrigin
      patientOrigin
    ]
    maximumInstanceCount: functionMaximumInstanceCount
    zoneRedundant: zoneRedundant
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}skinvault-ingest-${resourceToken}'
    location: location
    tags: tags
    storageAccountId: ingestStorage.outputs.RESOURCE_ID
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.PRINCIPAL_ID
    eventGridPrincipalId: eventGrid.outputs.PRINCIPAL_ID
    storageAccountName: storage.outputs.NAME
    ingestStorageAccountName: ingestStorage.outputs.NAME
    ingestPoisonQueueName: ingestStorage.outputs.POISON_QUEUE_NAME
    deadLetterContainerName: storage.outputs.DEAD_LETTER_CONTAINER_NAME
    keyVaultName: keyVault.outputs.NAME
    kekName: kek.outputs.KEY_NAME
    cosmosAccountName: cosmos.outputs.NAME
    cosmosDatabaseName: cosmos.outputs.DATABASE_NAME
    cosmosReadWriteContainers: cosmos.outputs.READ_WRITE_CONTAINER_NAMES
    cosmosAuditContainer: cosmos.outputs.AUDIT_CONTAINER_NAME
    communicationServiceName: communication.outputs.NAME
    applicationInsightsName: monitoring.outputs.APPLICATIONINSIGHTS_NAME
  }
}

module eventSubscription 'modules/eventgrid-subscription.bicep' = if (deployEventSubscription) {
  name: 'eventgrid-subscription'
  scope: rg
  dependsOn: [
    rbac
  ]
  params: {
    systemTopicName: eventGrid.outputs.NAME
    functionAppName: functionApp.outputs.NAME
    uploadsContainerName: ingestStorage.outputs.UPLOADS_CONTAINER_NAME
    maxUploadBytes: maxUploadBytes
    deadLetterStorageAccountId: storage.outputs.RESOURCE_ID
    deadLetterContainerName: storage.outputs.DEAD_LETTER_CONTAINER_NAME
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: 'skinvault-${environmentName}'
    location: location
    tags: tags
    alertEmailAddress: alertEmailAddress
    applicationInsightsName: monitoring.outputs.APPLICATIONINSIGHTS_NAME
    keyVaultName: keyVault.outputs.NAME
    cosmosAccountName: cosmos.outputs.NAME
    functionAppUrl: functionApp.outputs.URL
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.APPLICATIONINSIGHTS_NAME
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.NAME
output FUNCTION_APP_URL string = functionApp.outputs.URL
output STATIC_WEB_APP_NAME string = staticWebApp.outputs.NAME
output STATIC_WEB_APP_URL string = staticWebApp.outputs.URL
output PATIENT_WEB_APP_NAME string = patientWebApp.outputs.NAME
output PATIENT_WEB_APP_URL string = patientWebApp.outputs.URL
output CLINICIAN_WEB_ORIGIN string = clinicianOrigin
output PATIENT_WEB_ORIGIN string = patientOrigin
output API_BASE_URL string = functionApp.outputs.URL
output STORAGE_ACCOUNT_NAME string = storage.outputs.NAME
output INGEST_STORAGE_ACCOUNT_NAME string = ingestStorage.outputs.NAME
output INGEST_STORAGE_BLOB_ENDPOINT string = ingestStorage.outputs.BLOB_ENDPOINT
output UPLOADS_CONTAINER_NAME string = ingestStorage.outputs.UPLOADS_CONTAINER_NAME
output COSMOS_ENDPOINT string = cosmos.outputs.ENDPOINT
output COSMOS_DATABASE string = cosmos.outputs.DATABASE_NAME
output KEY_VAULT_NAME string = keyVault.outputs.NAME
output KEY_VAULT_URI string = keyVault.outputs.URI
output KEK_NAME string = kek.outputs.KEY_NAME
output ACS_ENDPOINT string = communication.outputs.ENDPOINT
output EMAIL_SERVICE_NAME string = communication.outputs.EMAIL_SERVICE_NAME
output EMAIL_DOMAIN_NAME string = communication.outputs.EMAIL_DOMAIN_NAME
output EMAIL_FROM_ADDRESS string = communication.outputs.EMAIL_FROM_ADDRESS
output EVENT_GRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.NAME
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.CLIENT_ID
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.APPLICATIONINSIGHTS_NAME
output ALERT_ACTION_GROUP_ID string = alerts.outputs.ACTION_GROUP_ID
output WORKBOOK_ID string = workbook.outputs.WORKBOOK_ID
