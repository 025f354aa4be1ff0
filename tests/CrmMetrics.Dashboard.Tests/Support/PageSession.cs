using Microsoft.Playwright;

namespace CrmMetrics.Dashboard.Tests.Support;

/// <summary>
/// One browser tab of its own (fresh session storage), recording what the page logs as an error, every
/// script error, and every request it sends to the API.
/// </summary>
public sealed class PageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private PageSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (Errors) Errors.Add($"console: {message.Text}");
        };
        page.PageError += (_, error) => { lock (Errors) Errors.Add($"script: {error}"); };
        page.Request += (_, request) =>
        {
            if (new Uri(request.Url).AbsolutePath.StartsWith("/api/", StringComparison.Ordinal)) lock (ApiRequests) ApiRequests.Add(request.Url);
        };
    }

    public IPage Page { get; }
    public List<string> Errors { get; } = [];
    public List<string> ApiRequests { get; } = [];

    public static async Task<PageSession> OpenAsync(IBrowser browser, Uri baseAddress, int width = 1280, int height = 900, string locale = "en-US")
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = locale,
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(60_000);
        return new PageSession(context, await context.NewPageAsync());
    }

    /// <summary>
    /// Waits until every panel has drawn what it loaded: none is busy (<c>aria-busy</c>, set while its
    /// figures load) and each has content. Unlike waiting for the network to go quiet, this names the
    /// panels still loading when it times out.
    /// </summary>
    public async Task WaitForPanelsAsync()
    {
        const string settled = "() => { const bodies = [...document.querySelectorAll('#main .panel-body')];" +
                               " return !document.getElementById('main').hidden && bodies.length > 0" +
                               " && bodies.every(b => !b.hasAttribute('aria-busy') && b.childElementCount > 0); }";
        try
        {
            await Page.WaitForFunctionAsync(settled);
        }
        catch (TimeoutException e)
        {
            var busy = await Page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#main .panel-body')]" +
                ".filter(b => b.hasAttribute('aria-busy') || b.childElementCount === 0).map(b => b.closest('section')?.id ?? '?')");
            throw new TimeoutException($"The dashboard's panels did not settle; still loading or empty: {string.Join(", ", busy)}", e);
        }
    }

    /// <summary>No console or script errors, except those named (a refused key's 401 is logged by the browser itself).</summary>
    public void AssertNoErrors(params string[] expected)
    {
        lock (Errors)
        {
            var unexpected = Errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
            Assert.True(unexpected.Count == 0, "The page logged errors:\n" + string.Join("\n", unexpected));
        }
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
