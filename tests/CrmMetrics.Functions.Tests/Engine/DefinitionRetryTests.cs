using System.Text;
using System.Text.Json;
using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Security;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// A goal's PUT marks the periods it changes stale before its write as well as after it. Found by a review: marked only
/// after it, an instance that died between the write and the marks left the client's retry finding the same document
/// stored, taken for no change, and marking nothing, so a fixed period kept its attainment against the old target (no
/// scheduled run computes a closed fixed period). The functions run in this process with the app's services, over Azurite.
/// </summary>
public class DefinitionRetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static HttpRequest Put(string goalId, object body)
    {
        var context = new DefaultHttpContext();
        context.Items[typeof(ApiKey)] = new ApiKey("test-admin", Role.Admin, new byte[32]);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        context.Request.Method = "PUT";
        context.Request.Path = $"/api/goals/{goalId}";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        return context.Request;
    }

    private static async Task<int> StatusOfAsync(IResult result)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task A_goal_put_retried_after_the_first_died_before_its_stale_marks_marks_the_goals_period()
    {
        const string period = "2033-11";
        object Goal(int target) => new { name = "Retried revenue", indicator = "com.revenue", grain = "month", period, target };

        await using var healthy = await InProcessApp.StartAsync(azurite);
        var stale = healthy.GetRequiredService<StalePeriodStore>();
        Assert.InRange(await StatusOfAsync(await ActivatorUtilities.CreateInstance<GoalsFunctions>(healthy).GoalAsync(Put("retried-goal", Goal(100)), "retried-goal", default)), 200, 201);
        // A run finalised the period since: it is clean.
        if (await stale.GetAsync(period, default) is { } mark) await stale.ClearAsync(mark, default);
        Assert.Null(await stale.GetAsync(period, default));

        var interceptor = new Interceptor();
        await using (var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor))
        {
            var stored = false;
            // Dies right after the goal's transaction (document and audit row): no table write after it lands.
            interceptor.After = m => { if (Interceptor.Is(m, "$batch") && m.Response.Status == 202) stored = true; };
            interceptor.Before = m => stored && !Interceptor.Is(m, "/crm-locks/") ? throw new ProcessKilledException() : ValueTask.CompletedTask;
            await Assert.ThrowsAnyAsync<Exception>(() => ActivatorUtilities.CreateInstance<GoalsFunctions>(dying).GoalAsync(Put("retried-goal", Goal(200)), "retried-goal", default));
            Assert.True(stored);
        }

        // The administrator got no answer and sends the same PUT again.
        Assert.Equal(200, await StatusOfAsync(await ActivatorUtilities.CreateInstance<GoalsFunctions>(healthy).GoalAsync(Put("retried-goal", Goal(200)), "retried-goal", default)));
        Assert.True(await stale.GetAsync(period, default) is not null,
            $"the goal's target is now 200, but {period} is not stale: its attainment stays computed against 100 until something else marks it");
    }
}
