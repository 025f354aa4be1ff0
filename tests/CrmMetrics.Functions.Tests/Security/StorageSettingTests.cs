using CrmMetrics.Functions.Hosting;
using Microsoft.Extensions.Configuration;

namespace CrmMetrics.Functions.Tests.Security;

/// <summary>
/// A storage connection string the SDK cannot read stops the app naming the setting, never repeating the
/// string (found by probing: the SDK's message quoted it, and the local host's 503s, which callers without a
/// key see, carried it).
/// </summary>
public class StorageSettingTests
{
    [Theory]
    [InlineData("TOPSECRETKEYVALUE0123456789")]
    [InlineData("AccountName=devstoreaccount1;AccountKey=TOPSECRETKEYVALUE0123456789")]
    [InlineData("DefaultEndpointsProtocol=https;TOPSECRETKEYVALUE0123456789")]
    public void An_unreadable_connection_string_is_refused_naming_the_setting_without_repeating_it(string connectionString)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("AzureWebJobsStorage", connectionString)]).Build();
        var e = Assert.Throws<SettingsException>(() => StorageConnection.Read(configuration));
        var (field, messages) = Assert.Single(e.Errors.ToDictionary());
        Assert.Equal("AzureWebJobsStorage", field);
        Assert.DoesNotContain("TOPSECRET", string.Join(" ", messages) + e.Message);
    }
}
