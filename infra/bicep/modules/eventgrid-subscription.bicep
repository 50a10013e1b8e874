// BlobCreated events of the ingest account's uploads container, at most MAX_UPLOAD_BYTES long
// (advanced filter on data.contentLength) -> the Function App's blob extension webhook for
// process_upload (blob trigger with source EventGrid). Event Grid validates the endpoint when the
// subscription is created, so this module runs only once the code is deployed
// (deployEventSubscription=true in main.bicep; see infra/README.md).

@description('Name of the existing Event Grid system topic on the ingest storage account.')
param systemTopicName string

@description('Name of the existing Function App.')
param functionAppName string

@description('Name of the blob-triggered function (Host.Functions.<name> in the webhook URL).')
param functionName string = 'process_upload'

@description('Container whose new blobs trigger the function.')
param uploadsContainerName string

@description('Largest upload delivered to the function, bytes (MAX_UPLOAD_BYTES). Larger blobs never reach the worker; the ingest lifecycle rule deletes them and the upload stays pending until the reconciliation timer rejects it.')
@minValue(1)
param maxUploadBytes int

@description('Resource id of the storage account undeliverable events are dead-lettered to (the main account, not the internet-facing ingest one).')
param deadLetterStorageAccountId string

@description('Container undeliverable events are dead-lettered to.')
param deadLetterContainerName string

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying one event.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// The blobs_extension system key exists once the host has started with a blob trigger.
var blobsExtensionKey = listKeys(resourceId('Microsoft.Web/sites/host', functionAppName, 'default'), '2024-04-01').systemKeys.blobs_extension
var endpointUrl = 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: '${uploadsContainerName}-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: endpointUrl
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainerName}/'
      // Size checked before a byte is read: an oversized PUT through the SAS never wakes the worker.
      advancedFilters: [
        {
          operatorType: 'NumberLessThanOrEquals'
          key: 'data.contentLength'
          value: maxUploadBytes
        }
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output SUBSCRIPTION_NAME string = subscription.name
