metadata description = 'Service Bus namespace (Standard, Entra-only) with the executive alerts topic, a subscription that receives every message, one filtered to critical alerts, and send rights for the app identity on the topic.'

@description('Namespace name (6-50 characters).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Topic the function app publishes executive alerts to (through its Service Bus sender).')
param topicName string

@description('How long the topic remembers message ids for duplicate detection (ISO 8601 duration, 20 seconds to 7 days).')
param duplicateDetectionWindow string = 'P1D'

@description('Name of the example subscription that receives only critical alerts.')
param criticalSubscriptionName string

@description('Name of the subscription that receives every message sent to the topic: alerts of every severity and the daily digest.')
param allSubscriptionName string

@description('Name of the user-assigned identity (in this resource group) that sends alerts.')
param identityName string

// Built-in role: Azure Service Bus Data Sender, assigned on the topic only.
var serviceBusDataSenderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }

  resource topic 'topics' = {
    name: topicName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      defaultMessageTimeToLive: 'P14D'
      enableBatchedOperations: true
      maxSizeInMegabytes: 1024
      supportOrdering: false
    }

    // A topic keeps a message only for the subscriptions whose rules match it; one matching none is
    // dropped. This subscription takes everything (warnings, info, resolutions and the digest, which
    // carries severity "info" and none of kind, indicator, scope or period), so nothing the app sends is lost.
    resource allSubscription 'subscriptions' = {
      name: allSubscriptionName
      properties: {
        deadLetteringOnMessageExpiration: true
        deadLetteringOnFilterEvaluationExceptions: true
        lockDuration: 'PT1M'
        maxDeliveryCount: 10
      }

      // Service Bus gives a new subscription this catch-all rule itself; declaring it puts it back should
      // someone have changed it by hand, so that every redeployment leaves the subscription taking everything.
      resource everything 'rules' = {
        name: '$Default'
        properties: {
          filterType: 'SqlFilter'
          sqlFilter: {
            sqlExpression: '1=1'
          }
        }
      }
    }

    resource criticalSubscription 'subscriptions' = {
      name: criticalSubscriptionName
      properties: {
        deadLetteringOnMessageExpiration: true
        deadLetteringOnFilterEvaluationExceptions: true
        lockDuration: 'PT1M'
        maxDeliveryCount: 10
      }

      // Service Bus gives every new subscription a "$Default" rule with a TrueFilter (1=1), and rules
      // are OR-ed: a second rule next to it would filter nothing. Writing the filter into "$Default"
      // replaces the catch-all, so this subscription gets critical alerts only.
      // Bare identifiers in a SQL filter already mean application (user) properties; "user." says so.
      resource criticalOnly 'rules' = {
        name: '$Default'
        properties: {
          filterType: 'SqlFilter'
          sqlFilter: {
            sqlExpression: 'user.severity = \'critical\''
          }
        }
      }
    }
  }
}

resource topicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::topic.id, identity.id, serviceBusDataSenderRoleId)
  scope: namespace::topic
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSenderRoleId)
  }
}

output name string = namespace.name
// serviceBusEndpoint looks like https://<name>.servicebus.windows.net:443/ in every cloud; keep the host.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
output topicName string = namespace::topic.name
output criticalSubscriptionName string = namespace::topic::criticalSubscription.name
output allSubscriptionName string = namespace::topic::allSubscription.name
