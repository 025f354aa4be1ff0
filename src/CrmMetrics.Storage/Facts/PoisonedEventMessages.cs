using System.Text;
using Azure.Storage.Queues;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// <c>crm-events-poison</c>: event messages the host gave up on after its attempts (storage failing
/// throughout, or a fault of the app's own; events that are merely invalid are recorded as rejected
/// and never land here). Nothing of them was acknowledged as ingested, so they wait here until an
/// operator replays them into <c>crm-events</c> once the cause is gone. A message is sent there before
/// it is deleted here: a crash between the two leaves it in both queues, and ingestion counts its
/// events once (a resent id is a duplicate).
/// </summary>
public sealed class PoisonedEventMessages(StorageAccount account)
{
    /// <summary>Characters of a message's text shown in a listing.</summary>
    public const int PreviewLength = 200;

    /// <summary>How long a message being replayed stays hidden from another replay.</summary>
    private static readonly TimeSpan Hidden = TimeSpan.FromMinutes(2);

    public sealed record Poisoned(string MessageId, DateTimeOffset? InsertedOn, long DequeueCount, int Bytes, string Preview);

    public sealed record Listing(int ApproximateCount, IReadOnlyList<Poisoned> First);

    // Raw clients: a message moves as the text it is stored as, whatever its encoding.
    private QueueClient Poison => account.RawQueues.GetQueueClient(StorageNames.Queues.Poison(StorageNames.Queues.CrmEvents));
    private QueueClient Events => account.RawQueues.GetQueueClient(StorageNames.Queues.CrmEvents);

    /// <summary>The queue's approximate length and its first messages (at most 32, the most storage shows without taking them).</summary>
    public async Task<Listing> ListAsync(CancellationToken ct)
    {
        var count = await ApproximateCountAsync(ct);
        var peeked = (await Poison.PeekMessagesAsync(32, ct)).Value;
        return new Listing(count, peeked.Select(m =>
        {
            var text = m.Body.ToString();
            var bytes = FromBase64(text) ?? Encoding.UTF8.GetBytes(text);
            return new Poisoned(m.MessageId, m.InsertedOn, m.DequeueCount, bytes.Length, Preview(bytes));
        }).ToList());
    }

    /// <summary>The queue's approximate length, as storage counts it.</summary>
    public async Task<int> ApproximateCountAsync(CancellationToken ct) => (await Poison.GetPropertiesAsync(ct)).Value.ApproximateMessagesCount;

    public sealed record Replay(int Moved, int Unreadable);

    /// <summary>
    /// A replay that storage stopped part-way: <see cref="Done"/> is what it had moved (sent and deleted)
    /// and kept before <see cref="Exception.InnerException"/>, so the caller can say so rather than
    /// answer as if nothing had moved.
    /// </summary>
    public sealed class ReplayInterruptedException(Replay done, Exception cause)
        : Exception($"The replay stopped after {done.Moved} messages were moved: {cause.Message}", cause)
    {
        public Replay Done { get; } = done;
    }

    /// <summary>
    /// Sends up to <paramref name="max"/> messages back to <c>crm-events</c>, each before it is deleted here.
    /// A message that is not base64 stays (the trigger could never read it; it is an operator's to mend
    /// and send again), hidden from this replay and counted as unreadable. A failure part-way (other
    /// than the caller's cancellation) is a <see cref="ReplayInterruptedException"/> holding what was
    /// moved before it; a message sent but not deleted is not counted (it is sent again by the next
    /// replay, and its events count once).
    /// </summary>
    public async Task<Replay> ReplayAsync(int max, CancellationToken ct)
    {
        var (moved, unreadable) = (0, 0);
        try
        {
            while (moved + unreadable < max)
            {
                var page = (await Poison.ReceiveMessagesAsync(Math.Min(32, max - moved - unreadable), Hidden, ct)).Value;
                if (page.Length == 0) break;
                var readable = page.Where(m => FromBase64(m.Body.ToString()) is not null).ToList();
                unreadable += page.Length - readable.Count;
                // Counted one by one: when one fails, the others of the page still finish, and count.
                await Task.WhenAll(readable.Select(async message =>
                {
                    try
                    {
                        await Events.SendMessageAsync(message.Body.ToString(), ct);
                        await Poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                    }
                    catch
                    {
                        await ShowAgainAsync(message);
                        throw;
                    }
                    Interlocked.Increment(ref moved);
                }));
            }
        }
        catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            throw new ReplayInterruptedException(new Replay(Volatile.Read(ref moved), unreadable), e);
        }
        return new Replay(moved, unreadable);
    }

    /// <summary>
    /// A message this replay took but did not move is visible again at once, so a retry finds it (found in review:
    /// it stayed hidden for <see cref="Hidden"/>, and a retry after the 503's Retry-After moved nothing). Best
    /// effort: with storage away it reappears when its hiding ends.
    /// </summary>
    private async Task ShowAgainAsync(Azure.Storage.Queues.Models.QueueMessage message)
    {
        try
        {
            await Poison.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or TimeoutException or OperationCanceledException)
        {
        }
    }

    /// <summary>The message's bytes as the trigger reads them (base64, the app's queue encoding); null when it is not base64.</summary>
    private static byte[]? FromBase64(string stored)
    {
        var buffer = new byte[stored.Length];
        return Convert.TryFromBase64String(stored, buffer, out var written) ? buffer[..written] : null;
    }

    /// <summary>The start of the message's text; bytes that are not UTF-8 show as U+FFFD (a preview, not the data).</summary>
    private static string Preview(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, PreviewLength * 4));
        if (text.Length <= PreviewLength) return text;
        // Not between the two halves of a surrogate pair.
        var cut = char.IsHighSurrogate(text[PreviewLength - 1]) ? PreviewLength - 1 : PreviewLength;
        return text[..cut] + "…";
    }
}
