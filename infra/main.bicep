metadata description = 'CrmMetrics: an Azure Functions .NET isolated-worker app on Flex Consumption with its storage, Service Bus alerts topic, monitoring and a least-privilege user-assigned identity.'

targetScope = 'resourceGroup'

import { apiKeySet, calendarName, exchangeRateSet, grainName } from 'app/types.bicep'

@minLength(1)
@maxLength(32)
@description('Environment name (azd style, e.g. "dev" or "prod"): part of every resource name and the azd-env-name tag.')
param environmentName string

@description('Azure region for every resource; defaults to the resource group\'s. It must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@minLength(3)
@maxLength(3)
@description('ISO 4217 currency that all KPIs are reported in.')
param reportingCurrency string = 'EUR'

@description('Reporting calendar: gregorian, persian, or fiscal:<first month 1-12>.')
param calendar calendarName = 'gregorian'

@minLength(1)
@description('Time zone id (IANA, e.g. "Europe/Berlin") that days and periods are cut in. The platform clock stays UTC: Flex Consumption does not support WEBSITE_TIME_ZONE or TZ.')
param timeZone string = 'UTC'

@minLength(1)
@maxLength(128)
@description('Name the deployment reports itself as (CrmMetrics__DeploymentName, the alerts\' CloudEvents source); defaults to the environment name. 1-128 characters of A-Z a-z 0-9 . _ : - (checked at deployment).')
param deploymentName string = environmentName

@minLength(11)
@description('NCRONTAB schedule of the KPI timer: six fields (second minute hour day month day-of-week), evaluated in UTC; no time spans on Flex Consumption, no L, W, # or ?, days of the week 0-6 (checked at deployment).')
param kpiSchedule string = '0 */15 * * * *'

@minLength(11)
@description('NCRONTAB schedule of the daily alert digest (six fields, evaluated in UTC, checked as kpiSchedule is). The default fires hourly from 07:00 to 11:00: the first firing sends the day\'s digest and the later ones stay quiet, unless that send failed or the app was down at 07:00 (a timer invocation is not retried).')
param alertDigestSchedule string = '0 0 7-11 * * *'

@description('API keys as { "keys": [ { "name": ..., "role": "reader"|"writer"|"admin", "sha256": <64 hex> } ] }. Only hashes: make one with printf %s "$KEY" | sha256sum. Rotate a key by adding the new entry, deploying, moving its clients, removing the old entry and deploying again.')
param apiKeys apiKeySet

@description('CrmMetrics__ExchangeRates__<CUR>: units of reporting currency per unit of <CUR>, as text with a decimal point, e.g. { "USD": "0.92", "GBP": "1.17" }. Not for the reporting currency itself. Orders in a currency without a rate are rejected. None by default.')
param exchangeRates exchangeRateSet = {}

@minValue(1)
@maxValue(87600)
@description('CrmMetrics__DefaultSlaHours: complaint SLA in hours when a complaint names none (whole hours, at most ten years).')
param defaultSlaHours int = 48

@minLength(1)
@description('CrmMetrics__Grains: the grains scheduled runs finalise.')
param grains grainName[] = [
  'day'
  'week'
  'month'
  'quarter'
  'year'
]

@minValue(1)
@maxValue(5000)
@description('CrmMetrics__ODataPageSize: rows per page of the OData feed.')
param odataPageSize int = 1000

@description('CrmMetrics__AlertHorizonDays: days after its end that a period still raises alerts (0-36500), for loading history; empty: every period alerts.')
param alertHorizonDays string = ''

@minValue(1)
@maxValue(200)
@description('CrmMetrics__HttpStorageTimeoutSeconds: how long an HTTP request waits for one storage answer before it answers 503 (1-200; one answer, not the whole request, so keep it well under the front end\'s 230 s).')
param httpStorageTimeoutSeconds int = 20

@minValue(0)
@maxValue(1000000)
@description('CrmMetrics__RateLimits__IngestPerSecond: writer requests a second per key and instance (0: no limit).')
param rateLimitIngestPerSecond int = 10

@minValue(0)
@maxValue(1000000)
@description('CrmMetrics__RateLimits__IngestBurst: writer requests a key may burst to; at least rateLimitIngestPerSecond.')
param rateLimitIngestBurst int = 50

@minValue(0)
@maxValue(1000000)
@description('CrmMetrics__RateLimits__ReadsPerSecond: read requests a second per key and instance (0: no limit).')
param rateLimitReadsPerSecond int = 50

@minValue(0)
@maxValue(1000000)
@description('CrmMetrics__RateLimits__ReadsBurst: read requests a key may burst to; at least rateLimitReadsPerSecond.')
param rateLimitReadsBurst int = 200

@description('Address alert links and OData next links start with (CrmMetrics__PublicBaseUrl), e.g. https://metrics.example.com for a custom domain: an absolute http(s) URL without query or fragment. Empty (the default): https://<the function app\'s default host name>.')
param publicBaseUrl string = ''

@minValue(40)
@maxValue(1000)
@description('Upper bound on Flex Consumption scale-out instances.')
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption instance memory size in MB.')
param instanceMemoryMB int = 2048

@description('Service Bus duplicate detection window of the alerts topic (ISO 8601 duration). Keep it above one hour: a finalisation may resend an alert claimed up to an hour earlier.')
param alertsDuplicateDetectionWindow string = 'P1D'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(resourceGroup().id))
var envName = toLower(environmentName)
var tags = {
  'azd-env-name': environmentName
}

var identityName = '${abbrs.managedIdentityUserAssignedIdentities}${envName}-${resourceToken}'
var functionAppName = '${abbrs.webSitesFunctions}${envName}-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

// Queues the app uses; the storage module declares a "-poison" twin for each.
var queueNames = [
  'crm-events'
  'kpi-runs'
  'kpi-days'
  'kpi-periods'
  'kpi-done'
]

var alertsTopicName = 'executive-alerts'
var criticalAlertsSubscriptionName = 'critical-alerts'
var allAlertsSubscriptionName = 'all-alerts'

module identity 'core/security/user-assigned-identity.bicep' = {
  name: 'identity'
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${envName}-${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${envName}-${resourceToken}'
    location: location
    tags: tags
    identityName: identityName
  }
  dependsOn: [
    identity
  ]
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    queueNames: queueNames
    identityName: identityName
  }
  dependsOn: [
    identity
  ]
}

module serviceBus 'core/messaging/service-bus.bicep' = {
  name: 'service-bus'
  params: {
    name: '${abbrs.serviceBusNamespaces}${envName}-${resourceToken}'
    location: location
    tags: tags
    topicName: alertsTopicName
    duplicateDetectionWindow: alertsDuplicateDetectionWindow
    criticalSubscriptionName: criticalAlertsSubscriptionName
    allSubscriptionName: allAlertsSubscriptionName
    identityName: identityName
  }
  dependsOn: [
    identity
  ]
}

module api 'app/api.bicep' = {
  name: 'api'
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${envName}-${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageEndpoints: {
      blob: storage.outputs.blobEndpoint
      queue: storage.outputs.queueEndpoint
      table: storage.outputs.tableEndpoint
    }
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${storage.outputs.deploymentContainerName}'
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    alertsTopicName: serviceBus.outputs.topicName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    reportingCurrency: toUpper(reportingCurrency)
    calendar: calendar
    timeZone: timeZone
    deploymentName: deploymentName
    kpiSchedule: kpiSchedule
    alertDigestSchedule: alertDigestSchedule
    apiKeys: apiKeys
    publicBaseUrl: publicBaseUrl
    exchangeRates: exchangeRates
    defaultSlaHours: defaultSlaHours
    grains: grains
    odataPageSize: odataPageSize
    alertHorizonDays: alertHorizonDays
    httpStorageTimeoutSeconds: httpStorageTimeoutSeconds
    rateLimits: {
      ingestPerSecond: rateLimitIngestPerSecond
      ingestBurst: rateLimitIngestBurst
      readsPerSecond: rateLimitReadsPerSecond
      readsBurst: rateLimitReadsBurst
    }
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output FUNCTION_APP_NAME string = api.outputs.name
output FUNCTION_APP_URL string = api.outputs.uri
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SERVICE_BUS_NAMESPACE_NAME string = serviceBus.outputs.name
output SERVICE_BUS_NAMESPACE_FQDN string = serviceBus.outputs.fullyQualifiedNamespace
output ALERTS_TOPIC_NAME string = serviceBus.outputs.topicName
output AZURE_CLIENT_ID string = identity.outputs.clientId
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
