using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Invocation;

namespace CrmMetrics.Functions.Jobs;

/// <summary><c>AlertDigest</c> (timer, <c>%AlertDigestSchedule%</c>, daily): the digest message through the <c>alerts</c> output.</summary>
public sealed class AlertDigestFunction(DigestService digests) : IFunctionHandler
{
    public const string FunctionName = "AlertDigest";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var response = new InvocationResponse();
        // One digest per day: its id is the day, so a second firing the same day is suppressed by the ledger.
        var message = await digests.BuildAsync("digest-invocation-" + Guid.NewGuid().ToString("N"), cancellationToken);
        if (message is not null) response.AddMessages(RunBindings.Alerts, [message]);
        response.Log(message is null ? "today's digest was sent already" : "digest sent");
        return response;
    }
}
