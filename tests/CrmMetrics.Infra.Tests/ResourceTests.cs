using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CrmMetrics.Infra.Tests;

/// <summary>What a deployment of infra/main.bicep would create, checked on the compiled template and its snapshot.</summary>
[Collection(InfraCollection.Name)]
public sealed class ResourceTests(InfraFixture infra)
{
    private const string IdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";

    private JsonObject Single(string type) =>
        Assert.Single(infra.PredictedResources, r => Arm.Type(r) == type);

    private IEnumerable<JsonObject> All(string type) =>
        infra.PredictedResources.Where(r => Arm.Type(r) == type);

    private JsonObject Identity => Single(IdentityType);

    [Fact]
    public void Names_follow_the_environment_and_fit_azure_limits()
    {
        var token = Regex.Escape(((string)Single("Microsoft.Storage/storageAccounts")["name"]!)[2..]);
        var env = InfraFixture.EnvironmentName.ToLowerInvariant();

        Assert.Matches("^st[a-z0-9]{13}$", (string)Single("Microsoft.Storage/storageAccounts")["name"]!);
        Assert.Matches($"^func-{env}-{token}$", (string)Single("Microsoft.Web/sites")["name"]!);
        Assert.Matches($"^plan-{env}-{token}$", (string)Single("Microsoft.Web/serverfarms")["name"]!);
        Assert.Matches($"^sb-{env}-{token}$", (string)Single("Microsoft.ServiceBus/namespaces")["name"]!);
        Assert.Matches($"^id-{env}-{token}$", (string)Identity["name"]!);
        Assert.Matches($"^appi-{env}-{token}$", (string)Single("Microsoft.Insights/components")["name"]!);
        Assert.Matches($"^log-{env}-{token}$", (string)Single("Microsoft.OperationalInsights/workspaces")["name"]!);

        // With the longest allowed environment name: sites and plans take 60 characters, namespaces 50.
        Assert.InRange(((string)Single("Microsoft.Web/sites")["name"]!).Length, 2, 60);
        Assert.InRange(((string)Single("Microsoft.ServiceBus/namespaces")["name"]!).Length, 6, 50);
    }

    [Fact]
    public void Everything_is_tagged_with_the_environment_and_follows_the_location()
    {
        foreach (var resource in infra.PredictedResources.Where(r => r["location"] is not null))
        {
            Assert.Equal(InfraFixture.Location, (string?)resource["location"]);
            Assert.Equal(InfraFixture.EnvironmentName, (string?)resource["tags"]?["azd-env-name"]);
        }

        Assert.Equal("api", (string?)Single("Microsoft.Web/sites")["tags"]!["azd-service-name"]);
    }

    [Fact]
    public void Storage_account_is_private_keyless_and_tls12()
    {
        var storage = Single("Microsoft.Storage/storageAccounts");
        var properties = storage["properties"]!;

        Assert.Equal("StorageV2", (string?)storage["kind"]);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
        Assert.Equal("None", (string?)Single("Microsoft.Storage/storageAccounts/blobServices/containers")["properties"]!["publicAccess"]);
    }

    [Fact]
    public void Storage_declares_the_app_queues_their_poison_queues_and_the_deployment_container()
    {
        var storageName = (string)Single("Microsoft.Storage/storageAccounts")["name"]!;
        var queues = All("Microsoft.Storage/storageAccounts/queueServices/queues")
            .Select(q => ((string)q["name"]!).Split('/')[^1])
            .Order()
            .ToList();

        var appQueues = CrmMetrics.Storage.Account.StorageNames.Queues.All;
        Assert.Equal(appQueues.SelectMany(q => new[] { q, q + "-poison" }).Order(), queues);
        Assert.Single(All("Microsoft.Storage/storageAccounts/tableServices"));

        var container = (string)Single("Microsoft.Storage/storageAccounts/blobServices/containers")["name"]!;
        Assert.Matches($"^{storageName}/default/app-package-[a-z0-9]{{13}}$", container);
    }

    [Fact]
    public void Function_app_is_a_linux_flex_consumption_dotnet_isolated_10_app()
    {
        var plan = Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);

        var site = Single("Microsoft.Web/sites");
        var properties = site["properties"]!;
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.Equal((string?)plan["id"], (string?)properties["serverFarmId"]);
        Assert.True((bool)properties["httpsOnly"]!);
        Assert.Equal("1.2", (string?)properties["siteConfig"]!["minTlsVersion"]);
        Assert.Null(properties["siteConfig"]!["ftpsState"]); // not supported on Flex Consumption

        var runtime = properties["functionAppConfig"]!["runtime"]!;
        Assert.Equal("dotnet-isolated", (string?)runtime["name"]);
        Assert.Equal("10.0", (string?)runtime["version"]);

        // Runs as the user-assigned identity, and nothing else.
        var identityId = (string)Identity["id"]!;
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal([identityId], site["identity"]!["userAssignedIdentities"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Deployment_package_comes_from_the_storage_container_through_the_identity()
    {
        var storageName = (string)Single("Microsoft.Storage/storageAccounts")["name"]!;
        var containerName = ((string)Single("Microsoft.Storage/storageAccounts/blobServices/containers")["name"]!).Split('/')[^1];
        var storage = Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!;

        Assert.Equal("blobContainer", (string?)storage["type"]);
        // The account's own blob endpoint (known only at deployment) followed by the container.
        var url = (string)storage["value"]!;
        Assert.Contains($"reference('{InfraFixture.ResourceId("Microsoft.Storage/storageAccounts", storageName)}'", url, StringComparison.Ordinal);
        Assert.Contains(".primaryEndpoints.blob", url, StringComparison.Ordinal);
        Assert.Contains($"'{containerName}'", url, StringComparison.Ordinal);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]!["type"]);
        Assert.Equal((string?)Identity["id"], (string?)storage["authentication"]!["userAssignedIdentityResourceId"]);
    }

    [Fact]
    public void Ftp_and_scm_basic_publishing_credentials_are_disabled()
    {
        var policies = All("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        var siteName = (string)Single("Microsoft.Web/sites")["name"]!;

        Assert.Equal([$"{siteName}/ftp", $"{siteName}/scm"], policies.Select(p => (string)p["name"]!).Order());
        Assert.All(policies, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [Fact]
    public void Alerts_topic_detects_duplicates_and_critical_subscription_filters_on_severity()
    {
        var ns = Single("Microsoft.ServiceBus/namespaces");
        Assert.Equal("Standard", (string?)ns["sku"]!["name"]);
        Assert.True((bool)ns["properties"]!["disableLocalAuth"]!);
        Assert.Equal("1.2", (string?)ns["properties"]!["minimumTlsVersion"]);

        var topic = Single("Microsoft.ServiceBus/namespaces/topics");
        Assert.EndsWith("/executive-alerts", (string?)topic["name"]);
        Assert.True((bool)topic["properties"]!["requiresDuplicateDetection"]!);
        Assert.Equal("P1D", (string?)topic["properties"]!["duplicateDetectionHistoryTimeWindow"]);

        Assert.Contains(All("Microsoft.ServiceBus/namespaces/topics/subscriptions"), s => ((string)s["name"]!).EndsWith("/executive-alerts/critical-alerts", StringComparison.Ordinal));

        // The filter replaces the subscription's catch-all "$Default" rule; a second rule would be OR-ed with it.
        var rule = Assert.Single(RulesOf("critical-alerts"));
        Assert.EndsWith("/executive-alerts/critical-alerts/$Default", (string?)rule["name"]);
        Assert.Equal("SqlFilter", (string?)rule["properties"]!["filterType"]);
        Assert.Equal("user.severity = 'critical'", (string?)rule["properties"]!["sqlFilter"]!["sqlExpression"]);
    }

    [Fact]
    public void Every_message_sent_to_the_alerts_topic_reaches_a_subscription()
    {
        // A topic drops a message no subscription's rules match. Warnings, info, resolutions and the digest
        // (severity "info", no kind, indicator, scope or period) match no critical-only filter, so one
        // subscription must take everything: its only rule is a true filter.
        var subscriptions = All("Microsoft.ServiceBus/namespaces/topics/subscriptions").Select(s => ((string)s["name"]!).Split('/')[^1]).Order().ToList();
        Assert.Equal(["all-alerts", "critical-alerts"], subscriptions);

        var rule = Assert.Single(RulesOf("all-alerts"));
        Assert.EndsWith("/$Default", (string?)rule["name"]);
        Assert.Equal("SqlFilter", (string?)rule["properties"]!["filterType"]);
        Assert.Equal("1=1", ((string?)rule["properties"]!["sqlFilter"]!["sqlExpression"])?.Replace(" ", "", StringComparison.Ordinal));

        var all = Assert.Single(All("Microsoft.ServiceBus/namespaces/topics/subscriptions"), s => ((string)s["name"]!).EndsWith("/all-alerts", StringComparison.Ordinal));
        Assert.True((bool)all["properties"]!["deadLetteringOnMessageExpiration"]!);
    }

    private IEnumerable<JsonObject> RulesOf(string subscription) =>
        All("Microsoft.ServiceBus/namespaces/topics/subscriptions/rules")
            .Where(r => ((string)r["name"]!).Split('/')[^2] == subscription);

    [Fact]
    public void Application_insights_uses_the_workspace_and_entra_only_ingestion()
    {
        var workspace = Single("Microsoft.OperationalInsights/workspaces");
        var insights = Single("Microsoft.Insights/components");

        Assert.Equal((string?)workspace["id"], (string?)insights["properties"]!["WorkspaceResourceId"]);
        Assert.True((bool)insights["properties"]!["DisableLocalAuth"]!);
    }

    [Fact]
    public void Every_role_assignment_goes_to_the_user_assigned_identity_with_least_privilege()
    {
        var identityPrincipal = $"[reference('{(string)Identity["id"]!}', '{(string)Identity["apiVersion"]!}').principalId]";
        var assignments = All("Microsoft.Authorization/roleAssignments").ToList();

        Assert.All(assignments, a =>
        {
            Assert.Equal(identityPrincipal, (string?)a["properties"]!["principalId"]);
            Assert.Equal("ServicePrincipal", (string?)a["properties"]!["principalType"]);
        });

        string Role(string id) => $"/subscriptions/{InfraFixture.SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{id}";
        var storage = (string)Single("Microsoft.Storage/storageAccounts")["id"]!;
        var topic = (string)Single("Microsoft.ServiceBus/namespaces/topics")["id"]!;
        var insights = (string)Single("Microsoft.Insights/components")["id"]!;
        var expected = new[]
        {
            (storage, Role("b7e6dc6d-f1e8-4753-8033-0f276bb0955b")), // Storage Blob Data Owner
            (storage, Role("974c5e8b-45b9-4653-ba55-5f855dd0fb88")), // Storage Queue Data Contributor
            (storage, Role("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3")), // Storage Table Data Contributor
            (topic, Role("69a216fc-b8fb-44d8-bc22-1f3c2cd27a39")), // Azure Service Bus Data Sender
            (insights, Role("3913510d-42f4-4e42-8a64-420c390055eb")), // Monitoring Metrics Publisher
        };
        var actual = assignments.Select(a =>
        {
            var id = (string)a["id"]!;
            var scope = id[..id.IndexOf("/providers/Microsoft.Authorization/roleAssignments/", StringComparison.Ordinal)];
            return (scope, (string)a["properties"]!["roleDefinitionId"]!);
        });

        Assert.Equal(expected.Order(), actual.Order());
    }

    [Fact]
    public void Role_assignments_in_the_template_all_name_the_identity_passed_to_their_module()
    {
        // The same check on the compiled template, independent of the snapshot evaluator: in each module,
        // every role assignment's principal is the existing identity named by the module's identityName
        // parameter, and main.bicep hands every such module the name of the one identity it creates.
        var identityName = Arm.Text(Arm.Module(infra.Template, "identity")["properties"]!["parameters"]!["name"]!["value"]);
        var modulesWithAssignments = Arm.Resources(infra.Template)
            .Where(r => Arm.Type(r) == "Microsoft.Resources/deployments")
            .Where(r => Arm.AllResources(r["properties"]!["template"]!.AsObject()).Any(x => Arm.Type(x) == "Microsoft.Authorization/roleAssignments"))
            .ToList();

        Assert.Equal(["monitoring", "service-bus", "storage"], modulesWithAssignments.Select(m => (string)m["name"]!).Order());
        foreach (var module in modulesWithAssignments)
        {
            Assert.Equal(identityName, Arm.Text(module["properties"]!["parameters"]!["identityName"]!["value"]));

            var template = module["properties"]!["template"]!.AsObject();
            string expectedPrincipal;
            if (template["resources"] is JsonObject symbolic)
            {
                // languageVersion 2.0: the existing identity is a symbolic resource that reference() names.
                var identity = Assert.Single(symbolic, r => Arm.Type(r.Value!.AsObject()) == IdentityType);
                Assert.True((bool?)identity.Value!["existing"]);
                Assert.Equal("[parameters('identityName')]", (string?)identity.Value!["name"]);
                expectedPrincipal = $"[reference('{identity.Key}').principalId]";
            }
            else
            {
                expectedPrincipal = "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName')), '2023-01-31').principalId]";
            }

            var assignments = Arm.Resources(template).Where(r => Arm.Type(r) == "Microsoft.Authorization/roleAssignments").ToList();
            Assert.NotEmpty(assignments);
            Assert.All(assignments, a => Assert.Equal(expectedPrincipal, (string?)a["properties"]!["principalId"]));
        }
    }
}
