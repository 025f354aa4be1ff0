using Microsoft.AspNetCore.Hosting;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// The worker's own HTTP port serves requests its Functions host forwards, each naming its invocation
/// (<c>x-ms-invocation-id</c>, which Azure's host and the local host both send). A request sent to that
/// port directly names none, and the Functions middleware failed it with an empty 500; it is answered
/// 421 (misdirected) with a problem saying where requests go. First in the pipeline (a startup filter).
/// </summary>
public sealed class HostOnlyRequests : IStartupFilter
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            if (context.Request.Headers.ContainsKey(InvocationIdHeader))
            {
                await following(context);
                return;
            }
            await Problems.Problem(421, "Misdirected Request",
                "This is the function app worker's own port, which serves only what its Functions host forwards. Send requests to the host's address (the local host prints it at start).").ExecuteAsync(context);
        });
        next(app);
    };
}
