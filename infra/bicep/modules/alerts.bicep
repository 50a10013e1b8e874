// Alerts that page the ops team (one action group, email), on what the service does rather than
// on what it is: poisoned messages, uploads stuck pending, 5xx rate, Key Vault throttling and
// latency, failed exports, Cosmos DB throttling, and the API health check failing.
// The log alerts read Application Insights (workspace-based) and rely on the telemetry listed in
// infra/README.md ("What the alerts and the workbook read"); each query names ids and codes only.

@description('Prefix of every alert name (e.g. skinvault-dev).')
param namePrefix string

@description('Azure region of the log alert rules and the availability test (the region of Application Insights).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Email address of the ops team (or its shared mailbox) that the action group notifies.')
param alertEmailAddress string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Name of the Key Vault that holds the KEK.')
param keyVaultName string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Public base URL of the Function App (https://<app>.azurewebsites.net); the availability test calls <url>/api/health.')
param functionAppUrl string

@description('Percentage of 5xx responses over 15 minutes that raises an alert (with at least 20 requests).')
@minValue(1)
@maxValue(100)
param http5xxPercentThreshold int = 5

@description('Average Key Vault API latency in milliseconds over 15 minutes that raises an alert.')
@minValue(50)
param keyVaultLatencyThresholdMs int = 1000

@description('Cosmos DB requests answered 429 (throttled) within 15 minutes that raise an alert.')
@minValue(1)
param cosmosThrottledThreshold int = 10

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-ops'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'skinvault'
    enabled: true
    emailReceivers: [
      {
        name: 'ops-team'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// ---------------------------------------------------------------- log alerts (Application Insights)
// Each: name, severity (0 critical .. 4 verbose), description, KQL that returns rows only when the
// condition holds. Queries read ids, result codes and counts, never request bodies or names.
var logAlerts = [
  {
    name: 'poison-messages'
    severity: 1
    description: 'A message reached its last retry and moved to a poison queue (notifications-poison, export-jobs-poison or webjobs-blobtrigger-poison): an upload, email or export will not happen without ops. Re-drive with the manage CLI after fixing the cause.'
    query: 'traces | where message has "poison" and (message has "Moving message to queue" or message has "MaxDequeueCount") | project timestamp, operation_Id, message'
  }
  {
    name: 'uploads-pending-too-long'
    severity: 2
    description: 'Uploads have been pending for more than 15 minutes (metric skinvault.uploads.pending_overdue from the reconciliation timer): Event Grid, the blob trigger or Key Vault may be failing.'
    query: 'customMetrics | where name == "skinvault.uploads.pending_overdue" | summarize overdue = max(value) | where overdue > 0'
  }
  {
    name: 'http-5xx-rate'
    severity: 1
    description: 'More than ${http5xxPercentThreshold}% of API requests answered 5xx over 15 minutes (at least 20 requests).'
    query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total >= 20 and 100.0 * failed / total > ${http5xxPercentThreshold}'
  }
  {
    name: 'export-failures'
    severity: 2
    description: 'An EPR export package failed to build (build_export outcome=failed): the clinician sees a failed export.'
    query: 'traces | where message startswith "build_export" and message has "outcome=failed" | project timestamp, operation_Id, message'
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: '${namePrefix}-${alert.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix} ${alert.name}'
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

// ---------------------------------------------------------------- metric alerts (platform metrics)
resource keyVaultThrottled 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-keyvault-throttled'
  location: 'global'
  tags: tags
  properties: {
    description: 'Key Vault answered 429 (throttled): unwraps of content keys are being refused, so photos do not load and uploads stay pending.'
    severity: 1
    enabled: true
    scopes: [
      vault.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricNamespace: 'Microsoft.KeyVault/vaults'
          metricName: 'ServiceApiResult'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource keyVaultLatency 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-keyvault-latency'
  location: 'global'
  tags: tags
  properties: {
    description: 'Key Vault API latency is above ${keyVaultLatencyThresholdMs} ms on average: every photo view and upload waits on it.'
    severity: 2
    enabled: true
    scopes: [
      vault.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'latency'
          metricNamespace: 'Microsoft.KeyVault/vaults'
          metricName: 'ServiceApiLatency'
          operator: 'GreaterThan'
          threshold: keyVaultLatencyThresholdMs
          timeAggregation: 'Average'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource cosmosThrottled 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-cosmos-throttled'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB answered 429 (request rate too large) more than ${cosmosThrottledThreshold} times in 15 minutes: raise the autoscale maximum or look for a hot partition.'
    severity: 2
    enabled: true
    scopes: [
      cosmos.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: cosmosThrottledThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// ---------------------------------------------------------------- health check
// Flex Consumption has no platform health check: a standard availability test calls /api/health
// (200 only when every dependency answers) from three European locations every 5 minutes.
var healthTestName = '${namePrefix}-api-health'

resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: healthTestName
  location: location
  tags: union(tags, {
    'hidden-link:${appInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: healthTestName
    Name: '${namePrefix} API health'
    Description: 'GET /api/health answers 200 over TLS.'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [
      {
        Id: 'emea-gb-db3-azr'
      }
      {
        Id: 'emea-ru-msa-edge'
      }
      {
        Id: 'emea-nl-ams-azr'
      }
    ]
    Request: {
      RequestUrl: '${functionAppUrl}/api/health'
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource healthFailing 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-health-failing'
  location: 'global'
  tags: tags
  properties: {
    description: 'GET /api/health failed from at least two test locations: the API or one of its dependencies is down.'
    severity: 0
    enabled: true
    scopes: [
      healthTest.id
      appInsights.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: appInsights.id
      failedLocationCount: 2
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

output ACTION_GROUP_ID string = actionGroup.id
output HEALTH_TEST_NAME string = healthTest.name
output LOG_ALERT_NAMES array = [for (alert, i) in logAlerts: logAlertRules[i].name]
