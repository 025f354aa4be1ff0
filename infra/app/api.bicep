metadata description = 'The CrmMetrics function app: a .NET 10 isolated worker on Flex Consumption, wired to storage, Service Bus and Application Insights through its user-assigned identity.'

import {
  apiKeyProblems
  apiKeySet
  apiKeySettings
  calendarName
  exchangeRateSet
  exchangeRateSettings
  grainName
  isCurrencyCode
  isDeploymentName
  isExchangeRate
  isPublicBaseUrl
  scheduleProblem
} from 'types.bicep'

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the app and its plan (azd-service-name is added here).')
param tags object = {}

@description('Value of the azd-service-name tag, which azd uses to find the app a service deploys to (this repository has no azure.yaml; deploy with az, see infra/README.md).')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity.')
param identityResourceId string

@description('Client id of the user-assigned identity; selects it for every identity-based connection.')
param identityClientId string

@description('Storage account used as AzureWebJobsStorage and by the app for its tables, queues and blobs.')
param storageAccountName string

@description('The account\'s primaryEndpoints (blob, queue and table service URIs), as the account reports them.')
param storageEndpoints {
  blob: string
  queue: string
  table: string
}

@description('URL of the deployment container.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Host name of the Service Bus namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Topic the app sends executive alerts to.')
param alertsTopicName string

@description('Upper bound on scale-out instances.')
param maximumInstanceCount int

@description('Instance memory size in MB.')
param instanceMemoryMB int

@description('ISO 4217 currency all KPIs are converted to.')
param reportingCurrency string

@description('Reporting calendar.')
param calendar calendarName

@description('IANA (or Windows) time zone id used to cut days and periods.')
param timeZone string

@description('Name this deployment reports itself as.')
param deploymentName string

@description('NCRONTAB schedule (six fields, UTC) of the KPI timer.')
param kpiSchedule string

@description('NCRONTAB schedule (six fields, UTC) of the daily alert digest.')
param alertDigestSchedule string

@description('API keys, as hashes (a secure type).')
param apiKeys apiKeySet

@description('Exchange rates to the reporting currency (CrmMetrics__ExchangeRates__<CUR>).')
param exchangeRates exchangeRateSet = {}

@description('CrmMetrics__DefaultSlaHours.')
param defaultSlaHours int = 48

@description('CrmMetrics__Grains.')
param grains grainName[] = [
  'day'
  'week'
  'month'
  'quarter'
  'year'
]

@description('CrmMetrics__ODataPageSize.')
param odataPageSize int = 1000

@description('CrmMetrics__AlertHorizonDays (empty: every period alerts; the app reads a blank setting as unset).')
param alertHorizonDays string = ''

@description('CrmMetrics__HttpStorageTimeoutSeconds.')
param httpStorageTimeoutSeconds int = 20

@description('CrmMetrics__RateLimits__*: per key and instance, requests a second and burst, for ingestion and reads (0: no limit).')
param rateLimits {
  ingestPerSecond: int
  ingestBurst: int
  readsPerSecond: int
  readsBurst: int
} = {
  ingestPerSecond: 10
  ingestBurst: 50
  readsPerSecond: 50
  readsBurst: 200
}

@description('CrmMetrics__PublicBaseUrl, the address alert links and OData next links start with; empty for the app\'s own https://<default host name>.')
param publicBaseUrl string = ''

// A .NET isolated worker on Flex Consumption: functionAppConfig.runtime is name "dotnet-isolated",
// version "10.0". FUNCTIONS_WORKER_RUNTIME is NOT set: on Flex Consumption it is replaced by
// functionAppConfig.runtime.name (see "Flex Consumption plan deprecations" in the Functions app
// settings reference). FUNCTIONS_EXTENSION_VERSION is likewise set by the platform.
var runtimeName = 'dotnet-isolated'
var runtimeVersion = '10.0'

var appSettings = {
  // Host storage through the identity; no connection string, no account key. The service URIs are the
  // account's own endpoints, so the host and the app (StorageConnection) use what the account reports
  // rather than building https://<account>.<service>.core.windows.net, which holds only in global Azure
  // without custom DNS. accountName stays beside them: it is the documented shorthand the host falls back
  // on, and Microsoft's Flex Consumption templates set both.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__blobServiceUri: storageEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storageEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storageEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId

  // Telemetry, authenticated with the identity (Monitoring Metrics Publisher).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'

  // The app's own ServiceBusClient (built in ServiceRegistration.cs from these settings, deliberately not through
  // Microsoft.Extensions.Azure) sends alerts to the topic (Azure Service Bus Data Sender).
  AlertsServiceBus__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  AlertsServiceBus__credential: 'managedidentity'
  AlertsServiceBus__clientId: identityClientId
  AlertsTopicName: alertsTopicName

  // The executive scorecard is served at / by the app itself (the Dashboard function), never the host's default page.
  AzureWebJobsDisableHomepage: 'true'

  // Product settings: every setting the app reads (CrmMetricsSettings), from a parameter. This module
  // writes the complete settings collection, so these parameters are the only place to change them.
  CrmMetrics__ReportingCurrency: reportingCurrency
  CrmMetrics__Calendar: calendar
  CrmMetrics__TimeZone: timeZone
  CrmMetrics__DeploymentName: deploymentName
  CrmMetrics__DefaultSlaHours: string(defaultSlaHours)
  CrmMetrics__Grains: join(grains, ',')
  CrmMetrics__ODataPageSize: string(odataPageSize)
  CrmMetrics__AlertHorizonDays: alertHorizonDays
  CrmMetrics__HttpStorageTimeoutSeconds: string(httpStorageTimeoutSeconds)
  CrmMetrics__RateLimits__IngestPerSecond: string(rateLimits.ingestPerSecond)
  CrmMetrics__RateLimits__IngestBurst: string(rateLimits.ingestBurst)
  CrmMetrics__RateLimits__ReadsPerSecond: string(rateLimits.readsPerSecond)
  CrmMetrics__RateLimits__ReadsBurst: string(rateLimits.readsBurst)
  KpiSchedule: kpiSchedule
  AlertDigestSchedule: alertDigestSchedule
}

// CrmMetrics__PublicBaseUrl: links in alerts sent through Service Bus leave the app, so they must be
// absolute. Given a value (a custom domain), it is set here; otherwise the function app module sets it to
// https://<default host name>, which exists only once the app does.
var publicBaseUrlSetting = empty(publicBaseUrl) ? {} : { CrmMetrics__PublicBaseUrl: publicBaseUrl }

// What CrmMetricsSettings.Load would refuse at start, checked here because the app would then exit and
// take /api/health down: the deployment fails instead, naming each parameter. Bicep has no regular
// expressions; types.bicep spells the rules out. Not checkable here: whether timeZone is a zone the app's
// machine knows, and a schedule no date matches (31 February); the app still refuses those at start.
var settingProblems = flatten([
  isDeploymentName(deploymentName)
    ? []
    : [
        'deploymentName \'${deploymentName}\' must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-" (it is the alerts\' CloudEvents source).'
      ]
  empty(scheduleProblem(kpiSchedule)) ? [] : ['kpiSchedule ${scheduleProblem(kpiSchedule)}.']
  empty(scheduleProblem(alertDigestSchedule)) ? [] : ['alertDigestSchedule ${scheduleProblem(alertDigestSchedule)}.']
  isCurrencyCode(reportingCurrency)
    ? []
    : ['reportingCurrency \'${reportingCurrency}\' must be an ISO 4217 code of three letters.']
  map(
    filter(
      items(exchangeRates),
      rate => !isCurrencyCode(rate.key) || rate.key == reportingCurrency || !isExchangeRate(rate.value)
    ),
    rate =>
      'exchangeRates: \'${rate.key}\': \'${rate.value}\' must be an ISO 4217 code in capitals other than the reporting currency, with a rate above 0 and below 10^12 written with digits and at most one decimal point.'
  )
  isPublicBaseUrl(publicBaseUrl)
    ? []
    : ['publicBaseUrl \'${publicBaseUrl}\' must be empty or an absolute http(s) URL without query or fragment.']
  rateLimits.ingestPerSecond > 0 && rateLimits.ingestBurst < rateLimits.ingestPerSecond
    ? [
        'rateLimitIngestBurst (${rateLimits.ingestBurst}) must be at least rateLimitIngestPerSecond (${rateLimits.ingestPerSecond}).'
      ]
    : []
  rateLimits.readsPerSecond > 0 && rateLimits.readsBurst < rateLimits.readsPerSecond
    ? [
        'rateLimitReadsBurst (${rateLimits.readsBurst}) must be at least rateLimitReadsPerSecond (${rateLimits.readsPerSecond}).'
      ]
    : []
])

// CrmMetrics__Keys__<name> = <role>:<sha256 hex>. Hashes only: the keys themselves are never deployed.
// Checked apart from the other settings: apiKeys is secure, so its checks stay with the secure settings.
var keySettings = empty(apiKeyProblems(apiKeys.keys))
  ? apiKeySettings(apiKeys.keys)
  : fail('CrmMetrics would refuse these API keys at start: ${join(apiKeyProblems(apiKeys.keys), ' ')}')

module functionApp '../core/host/flex-function-app.bicep' = {
  name: 'function-app'
  params: {
    name: name
    planName: planName
    location: location
    tags: union(tags, { 'azd-service-name': serviceName })
    identityResourceId: identityResourceId
    deploymentContainerUrl: deploymentContainerUrl
    runtimeName: runtimeName
    runtimeVersion: runtimeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: empty(settingProblems)
      ? union(appSettings, exchangeRateSettings(exchangeRates), publicBaseUrlSetting)
      : fail('CrmMetrics would refuse these settings at start: ${join(settingProblems, ' ')}')
    secureAppSettings: keySettings
    ownUrlSettingName: empty(publicBaseUrl) ? 'CrmMetrics__PublicBaseUrl' : ''
  }
}

output name string = functionApp.outputs.name
output uri string = functionApp.outputs.uri
output planName string = functionApp.outputs.planName
