using Microsoft.Extensions.Logging;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Consumers;

/// <summary>One consumer group of the pipeline (ARCHITECTURE.md §1): consume a batch, process it, commit, repeat.
/// At-least-once: a crash between processing and commit re-delivers the batch, so <see cref="ProcessAsync"/> must be
/// idempotent. A batch that throws is retried with back-off and never skipped: an archive consumer must not lose an
/// event; the lag in <c>/api/stats</c> shows it is stuck.</summary>
public abstract class ArchiveConsumer
{
    protected ArchiveConsumer(string group, IReadOnlyList<string> topics)
    {
        Group = group;
        Topics = topics;
    }

    public string Group { get; }

    public IReadOnlyList<string> Topics { get; }

    /// <summary>Records per batch (one transaction in the stores).</summary>
    public int MaxBatch { get; init; } = 500;

    public long ProcessedRecords => Interlocked.Read(ref _processed);

    public long FailedBatches => Interlocked.Read(ref _failed);

    private long _processed;
    private long _failed;

    protected abstract Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken);

    /// <summary>Called once the batch last given to <see cref="ProcessAsync"/> is processed and committed (not for a
    /// batch abandoned or retried), on the consumer's loop; for measurements such as the index lag.</summary>
    protected virtual void OnCommitted()
    {
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; a batch in hand is then abandoned
    /// uncommitted (it comes again: at-least-once).</summary>
    public Task RunAsync(IEventLog log, ILogger logger, CancellationToken cancellationToken) =>
        RunAsync(log, logger, cancellationToken, cancellationToken);

    /// <summary>Runs until <paramref name="stopping"/> is cancelled, then finishes the batch in hand (processed and
    /// committed) and returns: a graceful stop leaves no work to redo. <paramref name="aborting"/> abandons even that
    /// batch uncommitted, for when the time to stop has run out.</summary>
    public async Task RunAsync(IEventLog log, ILogger logger, CancellationToken stopping, CancellationToken aborting)
    {
        using var stopOrAbort = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborting);
        var halt = stopOrAbort.Token;
        await using var consumer = log.CreateConsumer(Group, Topics);
        var delay = TimeSpan.FromMilliseconds(100);
        while (!halt.IsCancellationRequested)
        {
            IReadOnlyList<EventRecord> batch;
            try
            {
                batch = await consumer.ConsumeAsync(MaxBatch, halt).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (halt.IsCancellationRequested)
            {
                return;
            }
            while (true)
            {
                try
                {
                    await ProcessAsync(batch, aborting).ConfigureAwait(false);
                    await consumer.CommitProcessedAsync(batch, aborting).ConfigureAwait(false);
                    Interlocked.Add(ref _processed, batch.Count);
                    OnCommitted();
                    delay = TimeSpan.FromMilliseconds(100);
                    break;
                }
                catch (OperationCanceledException) when (aborting.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _failed);
                    logger.LogError(ex, "consumer {Group}: batch of {Count} from {First} failed; retrying in {Delay}", Group, batch.Count, batch[0].Position, delay);
                    try
                    {
                        await Task.Delay(delay, halt).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping while a batch keeps failing: leave it uncommitted, it comes again after the restart.
                        return;
                    }
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                }
            }
        }
    }
}
