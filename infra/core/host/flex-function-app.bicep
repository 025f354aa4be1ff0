metadata description = 'A Linux function app on its own Flex Consumption (FC1) plan, running as a user-assigned identity, deployed from a blob container.'

@description('Function app name; also the default host name prefix.')
param name string

@description('Name of the Flex Consumption plan (one app per plan).')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app.')
param tags object = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('URL of the blob container that holds the deployment package, e.g. https://<account>.blob.core.windows.net/<container>.')
param deploymentContainerUrl string

@description('functionAppConfig.runtime.name, e.g. "dotnet-isolated".')
param runtimeName string

@description('functionAppConfig.runtime.version for that runtime.')
param runtimeVersion string

@description('Upper bound on scale-out instances (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Instance memory size in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('App settings (name to value) that are not secret.')
param appSettings object

@description('App settings (name to value) that are secret or derived from secrets.')
@secure()
param secureAppSettings object = {}

@description('Name of an app setting to set to the app\'s own address, https://<default host name>; empty for none. A value appSettings gives it wins. The host name is known only once the app exists.')
param ownUrlSettingName string = ''

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      // ftpsState is deliberately absent: Flex Consumption does not support FTPS and lists the property
      // as deprecated. FTP and SCM basic-auth publishing are switched off by the policies below.
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
  }

  // The complete app settings collection (this PUT replaces whatever was there before).
  resource settings 'config' = {
    name: 'appsettings'
    properties: union(
      empty(ownUrlSettingName) ? {} : { '${ownUrlSettingName}': 'https://${site.properties.defaultHostName}' },
      appSettings,
      secureAppSettings
    )
  }

  // No publishing with user names and passwords: deployments authenticate with Microsoft Entra ID.
  resource ftpPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output uri string = 'https://${site.properties.defaultHostName}'
output planName string = plan.name
