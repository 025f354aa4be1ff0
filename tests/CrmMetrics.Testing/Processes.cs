using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CrmMetrics.Testing;

/// <summary>What tests that start processes of their own ask about them: a port to give one, whether one still runs.</summary>
public static class Processes
{
    /// <summary>A loopback port free at the moment of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether the process with this id is still running.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
