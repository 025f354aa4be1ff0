using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Invocation;

namespace CrmMetrics.Functions.Jobs;

/// <summary><c>AlertDigest</c> (timer, <c>%AlertDigestSchedule%</c>, daily): the digest message through the <c>alerts</c> output.</summary>
public sealed class AlertDigestFunction(DigestService digests, TimeProvider clock) : IFunctionHandler
{
    public const string FunctionName = "AlertDigest";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var response = new InvocationResponse();
        // One digest per day: the invocation is the day, so a timer that fires twice sends it once.
        var message = await digests.BuildAsync("digest-" + clock.GetUtcNow().ToString("yyyyMMdd"), cancellationToken);
        if (message is not null) response.AddMessages(RunBindings.Alerts, [message]);
        response.Log(message is null ? "today's digest was sent already" : "digest sent");
        return response;
    }
}
