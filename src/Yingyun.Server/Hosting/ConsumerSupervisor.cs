using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;

namespace Yingyun.Server.Hosting;

/// <summary>Runs every <see cref="ArchiveConsumer"/> registered in DI as a background loop until shutdown, lets a
/// replay pause one group while its committed offsets are rewritten, and stops them gracefully: each finishes and
/// commits the batch in hand (ArchiveConsumer's stopping token), and only a shutdown that runs out of time abandons a
/// batch (it comes again: at-least-once).</summary>
public sealed partial class ConsumerSupervisor : IDisposable
{
    private readonly IEventLog _log;
    private readonly ILogger<ConsumerSupervisor> _logger;
    private readonly Dictionary<string, Runner> _runners;
    private readonly CancellationTokenSource _abort = new();
    private readonly SemaphoreSlim _replayGate = new(1, 1);
    private volatile bool _stopping;

    public ConsumerSupervisor(IEnumerable<ArchiveConsumer> consumers, IEventLog log, YingyunMetrics metrics, ILogger<ConsumerSupervisor> logger)
    {
        _log = log;
        _logger = logger;
        _runners = new Dictionary<string, Runner>(StringComparer.Ordinal);
        foreach (var consumer in consumers)
        {
            if (!_runners.TryAdd(consumer.Group, new Runner(consumer)))
                throw new InvalidOperationException($"two consumers are registered for the group '{consumer.Group}'");
        }
        var meter = metrics.Meter;
        meter.CreateObservableCounter("yingyun.consumer.records.processed",
            () => _runners.Values.Select(r => new Measurement<long>(r.Consumer.ProcessedRecords, Tag("group", r.Consumer.Group))), "{record}",
            "Event records processed and committed, per consumer group");
        meter.CreateObservableCounter("yingyun.consumer.batches.failed",
            () => _runners.Values.Select(r => new Measurement<long>(r.Consumer.FailedBatches, Tag("group", r.Consumer.Group))), "{batch}",
            "Batches that failed and were retried, per consumer group");
        meter.CreateObservableGauge("yingyun.consumer.lag", ObserveLag, "{record}",
            "Records appended but not yet committed by the group, per topic");
        if (log is EmbeddedEventLog embedded)
        {
            meter.CreateObservableCounter("yingyun.eventlog.records.appended", () => embedded.Statistics.RecordsAppended, "{record}", "Records appended to the embedded event log");
            meter.CreateObservableCounter("yingyun.eventlog.fsyncs", () => embedded.Statistics.Fsyncs, "{fsync}", "fsync calls of the embedded event log");
        }
    }

    public IReadOnlyCollection<ArchiveConsumer> Consumers => [.. _runners.Values.Select(r => r.Consumer)];

    /// <summary>running, paused (replay), stopped, or faulted with the reason.</summary>
    public IReadOnlyDictionary<string, ComponentState> States =>
        _runners.Values.OrderBy(r => r.Consumer.Group, StringComparer.Ordinal).ToDictionary(r => r.Consumer.Group, r => r.State);

    public void Start()
    {
        foreach (var runner in _runners.Values) StartRunner(runner);
    }

    private void StartRunner(Runner runner)
    {
        runner.Stopping.Dispose();
        runner.Stopping = new CancellationTokenSource();
        runner.State = new ComponentState(ServerHealth.Up, string.Join(", ", runner.Consumer.Topics));
        var stopping = runner.Stopping.Token;
        runner.Loop = Task.Run(async () =>
        {
            try
            {
                await runner.Consumer.RunAsync(_log, _logger, stopping, _abort.Token).ConfigureAwait(false);
                runner.State = new ComponentState(ServerHealth.Stopped, null);
            }
            catch (Exception ex)
            {
                // The consumer retries failing batches itself; what reaches here is the log failing under it.
                runner.State = new ComponentState(ServerHealth.Down, ex.Message);
                LogConsumerFailed(ex, runner.Consumer.Group);
            }
        }, CancellationToken.None);
    }

    /// <summary>Graceful stop: no consumer takes a new batch; each commits the one in hand. When
    /// <paramref name="cancellationToken"/> fires first, the batches still in hand are abandoned uncommitted.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        // A replay in progress restarts its group when done: let it finish first, so that group is stopped too.
        bool gate = false;
        try
        {
            await _replayGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            gate = true;
        }
        catch (OperationCanceledException)
        {
            // Out of time: stop what runs now.
        }
        try
        {
            await StopRunnersAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (gate) _replayGate.Release();
        }
    }

    private async Task StopRunnersAsync(CancellationToken cancellationToken)
    {
        foreach (var runner in _runners.Values) await runner.Stopping.CancelAsync().ConfigureAwait(false);
        using var abort = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abort);
        await Task.WhenAll(_runners.Values.Select(r => r.Loop)).ConfigureAwait(false);
    }

    /// <summary>Rewinds (or advances) <paramref name="request"/>'s group: a running consumer of the group is stopped
    /// after its current batch, its committed offsets are rewritten, and it starts again from them. One replay at a time.</summary>
    public async Task<ReplayResult> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        await _replayGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopping) throw new ReplayException("the server is shutting down");
            if (!_runners.TryGetValue(request.Group, out var runner))
                return await ConsumerGroupReplay.RewriteAsync(_log, request, cancellationToken).ConfigureAwait(false);

            await runner.Stopping.CancelAsync().ConfigureAwait(false);
            await runner.Loop.ConfigureAwait(false);
            runner.State = new ComponentState("paused", "replay");
            try
            {
                var result = await ConsumerGroupReplay.RewriteAsync(_log, request, cancellationToken).ConfigureAwait(false);
                LogReplayed(request.Group, request.Topic, request.From);
                return result;
            }
            finally
            {
                if (!_stopping) StartRunner(runner);
            }
        }
        finally
        {
            _replayGate.Release();
        }
    }

    /// <summary>Lag per consumer group, each partition and the total (<c>/api/stats</c>).</summary>
    public async Task<IReadOnlyList<(ArchiveConsumer Consumer, IReadOnlyList<PartitionLag> Partitions)>> GetLagAsync(CancellationToken cancellationToken)
    {
        var result = new List<(ArchiveConsumer, IReadOnlyList<PartitionLag>)>();
        foreach (var runner in _runners.Values.OrderBy(r => r.Consumer.Group, StringComparer.Ordinal))
        {
            var lag = await _log.GetLagAsync(runner.Consumer.Group, cancellationToken).ConfigureAwait(false);
            runner.LastLag = lag;
            result.Add((runner.Consumer, lag));
        }
        return result;
    }

    /// <summary>The gauge callback is synchronous: the embedded log answers at once; a log that has to go over the
    /// network (Kafka) is asked in the background and the last answer is reported meanwhile.</summary>
    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var runner in _runners.Values)
        {
            var pending = _log.GetLagAsync(runner.Consumer.Group);
            if (pending.IsCompletedSuccessfully) runner.LastLag = pending.Result;
            else _ = RefreshLagAsync(runner, pending);
            foreach (var topic in runner.LastLag.GroupBy(p => p.Topic, StringComparer.Ordinal))
                yield return new Measurement<long>(topic.Sum(p => p.Lag), Tag("group", runner.Consumer.Group), Tag("topic", topic.Key));
        }
    }

    private static async Task RefreshLagAsync(Runner runner, ValueTask<IReadOnlyList<PartitionLag>> pending)
    {
        try
        {
            runner.LastLag = await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Metrics never fail the server; the next scrape asks again.
        }
    }

    public void Dispose()
    {
        _abort.Dispose();
        _replayGate.Dispose();
        foreach (var runner in _runners.Values) runner.Stopping.Dispose();
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    [LoggerMessage(EventId = 101, Level = LogLevel.Critical, Message = "consumer {Group} stopped: the event log failed under it; restart the server (the group resumes from its committed offsets)")]
    private partial void LogConsumerFailed(Exception exception, string group);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "replay: consumer group {Group} rewound on {Topic} to {From}; it re-consumes from there")]
    private partial void LogReplayed(string group, string topic, string from);

    private sealed class Runner(ArchiveConsumer consumer)
    {
        public ArchiveConsumer Consumer { get; } = consumer;
        public CancellationTokenSource Stopping { get; set; } = new();
        public Task Loop { get; set; } = Task.CompletedTask;
        public volatile ComponentState State = new(ServerHealth.Starting, null);
        public volatile IReadOnlyList<PartitionLag> LastLag = [];
    }
}
