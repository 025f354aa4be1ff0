using System.Diagnostics;
using Microsoft.Playwright;

namespace CrmMetrics.Dashboard.Tests.Support;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>) driven by Playwright, which is given its path and never
/// downloads a browser of its own. Installed with apt-get when missing and the tests run as root (as on CI);
/// otherwise the tests fail saying how to install it.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    // Without the background-networking switches Chromium keeps opening connections to services a closed network never answers.
    public static readonly string[] Arguments =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        Playwright = playwright;
        Browser = browser;
    }

    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        await EnsureInstalledAsync();
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Args = Arguments, Headless = true });
        return new Chromium(playwright, browser);
    }

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath)) return;
        await InstallLock.WaitAsync();
        try
        {
            if (File.Exists(ExecutablePath)) return;
            if (Environment.UserName != "root")
                throw new InvalidOperationException($"The dashboard tests need Chromium at {ExecutablePath}: install it with 'sudo apt-get install -y chromium'.");
            // A fresh machine's package lists may be missing or old: install, and if that fails, update the lists and try once more.
            if (await AptAsync("install", "-y", "-q", "chromium") != 0 && (await AptAsync("update", "-q") != 0 || await AptAsync("install", "-y", "-q", "chromium") != 0))
                throw new InvalidOperationException($"apt-get could not install Chromium; install it with 'apt-get install -y chromium' so that {ExecutablePath} exists.");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<int> AptAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("apt-get") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("apt-get could not be started.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await Task.WhenAll(output, errors);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
    }
}
