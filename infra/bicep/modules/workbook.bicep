// The ops team's workbook over Application Insights: uploads per hour, upload-to-ready time,
// rejections by reason, exports, shares granted and revoked. Counts and durations only: every
// query groups by codes (status, reason, result code), never by a patient, clinician or name.

@description('Azure region of the workbook (the region of Application Insights).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the Application Insights component the workbook reads.')
param applicationInsightsName string

@description('Display name of the workbook.')
param displayName string = 'SkinVault operations'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One chart per question; `name` is the item id inside the workbook. HTTP calls are found by
// function name (requests.operation_Name / name, as the Functions host records them);
// tests/infra checks that each name is a function of the app.
var charts = [
  {
    name: 'uploads-per-hour'
    title: 'Uploads per hour (upload URLs issued, uploads processed by outcome)'
    visualization: 'timechart'
    query: 'union (requests | where operation_Name == "start_upload" or name == "start_upload" | extend series = "upload URL issued"), (traces | where message startswith "process_upload finished" | extend series = strcat("processed: ", extract("status=([a-z-]+)", 1, message))) | summarize count() by series, bin(timestamp, 1h)'
  }
  {
    name: 'upload-to-ready'
    title: 'Upload to ready, seconds (p50, p95)'
    visualization: 'timechart'
    query: 'customMetrics | where name == "skinvault.uploads.time_to_ready_seconds" | summarize p50 = percentile(value, 50), p95 = percentile(value, 95) by bin(timestamp, 1h)'
  }
  {
    name: 'rejections-by-reason'
    title: 'Rejected uploads by reason'
    visualization: 'barchart'
    query: 'traces | where message startswith "process_upload finished" and message has "status=rejected" | extend reason = coalesce(extract("reason=([a-z-]+)", 1, message), "unrecorded") | summarize count() by reason'
  }
  {
    name: 'exports'
    title: 'EPR exports: requested, and built by outcome'
    visualization: 'timechart'
    query: 'union (requests | where (operation_Name == "request_export" or name == "request_export") and resultCode == "202" | extend series = "requested"), (traces | where message startswith "build_export" | extend series = strcat("built: ", extract("outcome=([a-z-]+)", 1, message))) | summarize count() by series, bin(timestamp, 1d)'
  }
  {
    name: 'shares'
    title: 'Shares granted and revoked'
    visualization: 'timechart'
    query: 'requests | extend fn = iff(isempty(operation_Name), name, operation_Name) | where (fn == "grant_share" and resultCode == "201") or (fn == "revoke_share" and resultCode in ("200", "204")) | extend series = iff(fn == "grant_share", "granted", "revoked") | summarize count() by series, bin(timestamp, 1d)'
  }
]

var chartItems = [for chart in charts: {
  type: 3
  name: chart.name
  content: {
    version: 'KqlItem/1.0'
    title: chart.title
    query: chart.query
    size: 0
    timeContext: {
      durationMs: 604800000
    }
    queryType: 0
    resourceType: 'microsoft.insights/components'
    visualization: chart.visualization
  }
}]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat([
    {
      type: 1
      name: 'intro'
      content: {
        json: '## ${displayName}\nCounts and timings only, grouped by codes: no patient data.'
      }
    }
  ], chartItems)
  isLocked: false
  fallbackResourceIds: [
    appInsights.id
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, 'skinvault-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string(workbookContent)
  }
}

output WORKBOOK_ID string = workbook.id
output CHART_NAMES array = [for chart in charts: chart.name]
