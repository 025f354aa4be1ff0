using CrmMetrics.Functions.Hosting;
using Microsoft.Extensions.Configuration;

namespace CrmMetrics.Functions.Tests.Alerts;

/// <summary>
/// The Service Bus connection is checked when the app starts (found by probing: a malformed one passed
/// start-up, then failed every period finalisation before it ran, and the run stayed "running").
/// </summary>
public class AlertsServiceBusSettingTests
{
    private static AlertsServiceBus? Read(params (string Key, string Value)[] settings) =>
        AlertsServiceBus.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    [Theory]
    [InlineData("Endpoint=notaurl;SharedAccessKeyName=x")]
    [InlineData("Endpoint=sb://contoso servicebus/;SharedAccessKeyName=x;SharedAccessKey=secret-key")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send")]
    [InlineData("garbage")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=secret-key;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1&skn=send")]
    [InlineData("SharedAccessKeyName=send;SharedAccessKey=secret-key")]
    public void A_connection_string_the_sdk_cannot_use_stops_the_app_naming_the_setting_without_quoting_its_key(string connectionString)
    {
        var e = Assert.Throws<SettingsException>(() => Read(("AlertsServiceBus", connectionString)));
        var (field, messages) = Assert.Single(e.Errors.ToDictionary());
        Assert.Equal("AlertsServiceBus", field);
        Assert.DoesNotContain("secret-key", string.Join(" ", messages));
    }

    [Fact]
    public void A_usable_connection_string_is_taken_and_a_blank_one_counts_as_unset()
    {
        Assert.NotNull(Read(("AlertsServiceBus", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=a2V5")));
        Assert.NotNull(Read(("AlertsServiceBus", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1&skn=send")));
        Assert.Null(Read(("AlertsServiceBus", "   ")));
        Assert.Null(Read());
    }

    [Theory]
    // Found by probing: accepted at start, it would have failed only the first alert's send.
    [InlineData("Exec_Alerts!")]
    [InlineData("-alerts")]
    [InlineData("alerts topic")]
    public void A_topic_name_service_bus_refuses_stops_the_app_naming_the_setting(string topic)
    {
        var e = Assert.Throws<SettingsException>(() => Read(("AlertsServiceBus", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=a2V5"), ("AlertsTopicName", topic)));
        Assert.Equal("AlertsTopicName", Assert.Single(e.Errors.ToDictionary()).Key);
    }

    [Fact]
    public void A_topic_name_defaults_to_executive_alerts_and_a_valid_one_is_taken()
    {
        const string bus = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=a2V5";
        Assert.Equal("executive-alerts", Read(("AlertsServiceBus", bus))!.Topic);
        Assert.Equal("crm/exec.alerts_2", Read(("AlertsServiceBus", bus), ("AlertsTopicName", "crm/exec.alerts_2"))!.Topic);
    }

    [Fact]
    public void An_identity_connection_takes_managedidentity_or_nothing_as_its_credential()
    {
        var e = Assert.Throws<SettingsException>(() => Read(("AlertsServiceBus:fullyQualifiedNamespace", "contoso.servicebus.windows.net"), ("AlertsServiceBus:credential", "bogus-secret")));
        var (field, messages) = Assert.Single(e.Errors.ToDictionary());
        Assert.Equal("AlertsServiceBus:credential", field);
        Assert.DoesNotContain("bogus-secret", string.Join(" ", messages));
        Assert.NotNull(Read(("AlertsServiceBus:fullyQualifiedNamespace", "contoso.servicebus.windows.net"), ("AlertsServiceBus:credential", "workloadidentity")));
        Assert.Null(Read(("AlertsServiceBus:fullyQualifiedNamespace", "  ")));
        Assert.NotNull(Read(("AlertsServiceBus:fullyQualifiedNamespace", "contoso.servicebus.windows.net"), ("AlertsServiceBus:credential", "ManagedIdentity")));
        Assert.NotNull(Read(("AlertsServiceBus:fullyQualifiedNamespace", "contoso.servicebus.windows.net")));
    }
}
