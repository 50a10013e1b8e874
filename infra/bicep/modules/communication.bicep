// Azure Communication Services + Email Communication Service with one sending domain, linked.
// Data location UK. Engagement tracking is off: notification emails carry no patient data and
// we do not track who opens them.

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Name of the Email Communication Service resource.')
param emailServiceName string

@description('Tags applied to every resource.')
param tags object

@description('Where ACS stores data at rest.')
param dataLocation string = 'UK'

@description('Custom sending domain (e.g. skinvault.example.nhs.uk), verified after deployment via DNS records. Empty: an Azure-managed domain (*.azurecomm.net), ready at once.')
param customDomainName string = ''

@description('Local part of the sender address (EMAIL_FROM_ADDRESS is this @ the domain).')
param senderUsername string = 'DoNotReply'

@description('Display name of the sender.')
param senderDisplayName string = 'SkinVault'

var useCustomDomain = !empty(customDomainName)

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource domain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: useCustomDomain ? customDomainName : 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: useCustomDomain ? 'CustomerManaged' : 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource sender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: domain
  name: toLower(senderUsername)
  properties: {
    username: senderUsername
    displayName: senderDisplayName
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      domain.id
    ]
  }
}

output NAME string = communicationService.name
output RESOURCE_ID string = communicationService.id
output ENDPOINT string = 'https://${communicationService.properties.hostName}'
output EMAIL_FROM_ADDRESS string = '${senderUsername}@${domain.properties.mailFromSenderDomain}'
output EMAIL_DOMAIN_NAME string = domain.name
output EMAIL_SERVICE_NAME string = emailService.name
