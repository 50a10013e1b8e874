// Event Grid system topic on the ingest storage account (where phones upload): the source of the
// BlobCreated events that drive the Event Grid based blob trigger (process_upload). The
// subscription itself is in eventgrid-subscription.bicep, deployed once the function code is there
// (see infra/README.md). A system topic's source cannot change, so this topic is named after the
// ingest account and is not the old topic on the main account.

@description('Name of the system topic.')
param name string

@description('Region of the storage account (a system topic lives with its source).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the storage account whose events the topic publishes (the ingest account).')
param storageAccountId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output NAME string = systemTopic.name
output RESOURCE_ID string = systemTopic.id
output PRINCIPAL_ID string = systemTopic.identity.principalId
