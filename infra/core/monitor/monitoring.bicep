metadata description = 'Log Analytics workspace plus a workspace-based Application Insights component, with the app identity allowed to publish telemetry.'

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags applied to both resources.')
param tags object = {}

@description('Days of retention in the Log Analytics workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('When true, ingestion accepts only Microsoft Entra authenticated telemetry (the function app sends APPLICATIONINSIGHTS_AUTHENTICATION_STRING).')
param disableLocalAuth bool = true

@description('Name of the user-assigned identity (in this resource group) that publishes telemetry.')
param identityName string

// Built-in role: Monitoring Metrics Publisher. Needed for Entra-authenticated ingestion.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: disableLocalAuth
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identity.id, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      monitoringMetricsPublisherRoleId
    )
  }
}

output logAnalyticsName string = logAnalytics.name
output applicationInsightsName string = applicationInsights.name
// The connection string holds only the instrumentation key and endpoints; it is not a credential
// (with DisableLocalAuth the key alone cannot ingest anything).
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
