namespace CrmMetrics.Functions.Runs;

/// <summary>Helpers for storage calls a run makes at the same time.</summary>
internal static class Concurrently
{
    /// <summary>Starts an operation as a task, so an exception thrown before it returns its task becomes that task's.</summary>
    public static async Task<T> Started<T>(Func<Task<T>> start) => await start();

    /// <inheritdoc cref="Started{T}(Func{Task{T}})"/>
    public static async Task Started(Func<Task> start) => await start();
}
