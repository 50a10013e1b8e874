// Azure Communication Services + Email Communication Service. Data location UK. Engagement
// tracking is off: notification emails carry no patient data and we do not track who opens them.
// The Azure-managed domain (*.azurecomm.net) is always created and linked first: it is ready at
// once, so email works from the first deployment. A custom domain is created when
// customDomainName is set (so its DNS records can be read and verified), and linked and used as
// the sender only when customDomainVerified is true, on a deployment after verification: ACS
// refuses to link an unverified domain.

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Name of the Email Communication Service resource.')
param emailServiceName string

@description('Tags applied to every resource.')
param tags object

@description('Where ACS stores data at rest.')
param dataLocation string = 'UK'

@description('Custom sending domain (e.g. skinvault.example.nhs.uk), verified after deployment via DNS records. Empty: the Azure-managed domain only.')
param customDomainName string = ''

@description('Set true once customDomainName is verified (SPF, DKIM, DKIM2, domain): only then is it linked and used as the sender.')
param customDomainVerified bool = false

@description('Local part of the sender address (EMAIL_FROM_ADDRESS is this @ the domain).')
param senderUsername string = 'DoNotReply'

@description('Display name of the sender.')
param senderDisplayName string = 'SkinVault'

var createCustomDomain = !empty(customDomainName)
var useCustomDomain = createCustomDomain && customDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource managedSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: managedDomain
  name: toLower(senderUsername)
  properties: {
    username: senderUsername
    displayName: senderDisplayName
  }
}

resource customDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (createCustomDomain) {
  parent: emailService
  name: createCustomDomain ? customDomainName : 'unused'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

// The sender on the custom domain exists once the domain is verified (it is used only then).
resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = if (useCustomDomain) {
  parent: customDomain
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
    linkedDomains: useCustomDomain ? [
      managedDomain.id
      customDomain.id
    ] : [
      managedDomain.id
    ]
  }
}

output NAME string = communicationService.name
output RESOURCE_ID string = communicationService.id
output ENDPOINT string = 'https://${communicationService.properties.hostName}'
output EMAIL_FROM_ADDRESS string = useCustomDomain ? '${senderUsername}@${customDomainName}' : '${senderUsername}@${managedDomain.properties.mailFromSenderDomain}'
output EMAIL_DOMAIN_NAME string = useCustomDomain ? customDomainName : managedDomain.name
output CUSTOM_DOMAIN_NAME string = customDomainName
output EMAIL_SERVICE_NAME string = emailService.name
