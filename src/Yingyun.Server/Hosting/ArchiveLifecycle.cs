using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Configuration;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Archive.Warehouse;

namespace Yingyun.Server.Hosting;

/// <summary>Brings the archive up and down in order. Registered before the web server, so the host starts it first
/// (HTTP opens only once everything behind it is up) and stops it last.
/// <para>Start: lock the data directory, open the event log, open and initialize the index store and the warehouse,
/// load the tenants (a <c>default</c> catch-all when there are none) and upsert the configured nodes, run the ingest's
/// recovery of half-done receipts, start the consumers, and only then open the DIMSE listener.</para>
/// <para>Stop: the DIMSE listener stops accepting and lets associations in progress finish (bounded by
/// <c>Yingyun:Dimse:ShutdownTimeoutSeconds</c>), the consumers commit their batch in hand and stop; the stores, the
/// log and the lock are then released by the container in the reverse order they were opened.</para></summary>
public sealed partial class ArchiveLifecycle(
    IServiceProvider services,
    YingyunOptions options,
    ServerHealth health,
    IHostApplicationLifetime lifetime,
    ILogger<ArchiveLifecycle> logger) : IHostedService
{
    private DataDirectoryLock? _lock;
    private DimseListener? _dimse;
    private ConsumerSupervisor? _consumers;
    private CancellationTokenRegistration _started;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartInOrderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The host does not stop a service whose start failed: undo what did start before the container closes
            // the stores and the log under it.
            if (_dimse is not null) await _dimse.DisposeAsync().ConfigureAwait(false);
            if (_consumers is not null)
            {
                using var now = new CancellationTokenSource();
                await now.CancelAsync().ConfigureAwait(false);
                await _consumers.StopAsync(now.Token).ConfigureAwait(false);
            }
            throw;
        }
    }

    private async Task StartInOrderAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        health.Set("dimse", ServerHealth.Starting);
        health.Set("http", ServerHealth.Starting);
        _lock = services.GetRequiredService<DataDirectoryLock>();

        health.Set("eventLog", ServerHealth.Starting);
        var log = services.GetRequiredService<IEventLog>();
        health.Set("eventLog", ServerHealth.Up, $"embedded, {YingyunConfiguration.EventLogDirectory(options)}");

        health.Set("index", ServerHealth.Starting);
        var index = services.GetRequiredService<IIndexStore>();
        await index.InitializeAsync(cancellationToken).ConfigureAwait(false);
        health.Set("index", ServerHealth.Up, index is SqliteIndexStore sqlite ? $"{options.Index.Provider}, {sqlite.DatabasePath}" : options.Index.Provider);

        health.Set("warehouse", ServerHealth.Starting);
        var warehouse = services.GetRequiredService<IWarehouse>();
        await warehouse.InitializeAsync(cancellationToken).ConfigureAwait(false);
        health.Set("warehouse", ServerHealth.Up, warehouse is DuckDbWarehouse duck ? $"{options.Warehouse.Provider}, {duck.DataSource}" : options.Warehouse.Provider);

        var tenants = services.GetRequiredService<TenantDirectory>();
        await tenants.InitializeAsync(options.Tenants, cancellationToken).ConfigureAwait(false);
        foreach (var node in options.Nodes)
        {
            if (NodeValidation.Check(node, tenants) is { } problem)
                throw new YingyunConfigurationException($"Yingyun:Nodes entry {node.AeTitle}@{node.Host}:{node.Port}: {problem.Message}");
            await index.UpsertNodeAsync(node, cancellationToken).ConfigureAwait(false);
        }
        health.Set("tenants", ServerHealth.Up, $"{tenants.All.Count} tenant(s)");

        // Receipts a crash interrupted are finished (or removed, if never acknowledged) before anyone can send again.
        health.Set("ingest", ServerHealth.Starting, "recovering");
        var ingest = services.GetRequiredService<IngestService>();
        var (finished, removed) = await ingest.RecoverAsync(cancellationToken).ConfigureAwait(false);
        if (finished + removed > 0) LogRecovered(finished, removed);
        services.GetRequiredService<YingyunMetrics>().ObserveIngest(ingest.Counters);
        health.Set("ingest", ServerHealth.Up, ingest.Blobs.Root);

        _consumers = services.GetRequiredService<ConsumerSupervisor>();
        _consumers.Start();

        _dimse = services.GetRequiredService<DimseListener>();
        _dimse.Start();
        health.Set("dimse", ServerHealth.Up, $"{options.Dimse.AeTitle.Trim()} on {options.Dimse.Address}:{_dimse.Port}");

        _started = lifetime.ApplicationStarted.Register(() => Announce(clock.Elapsed, log, tenants));
    }

    /// <summary>Once HTTP is bound too: publish where this server listens (for <c>yingyun replay</c>) and say it.</summary>
    private void Announce(TimeSpan elapsed, IEventLog log, TenantDirectory tenants)
    {
        string http = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "(no HTTP listener)";
        health.Set("http", ServerHealth.Up, http);
        _lock!.PublishServer(new ServerInfo(Environment.ProcessId, http, _dimse!.Port, options.Dimse.AeTitle.Trim(), DateTimeOffset.UtcNow));

        if (!logger.IsEnabled(LogLevel.Information)) return;
        LogServing(options.DataDirectory, elapsed.TotalMilliseconds);
        string aeTitle = options.Dimse.AeTitle.Trim();
        LogDimse(aeTitle, options.Dimse.Address, _dimse.Port, options.Dimse.MaximumAssociations);
        LogHttp(http);
        foreach (var tenant in tenants.All.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            string senders = tenant.AeTitles.Count == 0 ? "any calling AE" : string.Join(", ", tenant.AeTitles);
            string addresses = tenant.AllowedIps.Count == 0 ? "any address" : string.Join(", ", tenant.AllowedIps);
            LogTenant(tenant.Id, senders, addresses, tenant.ResendPolicy);
        }
        var consumers = _consumers!.Consumers;
        string eventLog = log is EmbeddedEventLog ? "embedded" : log.GetType().Name;
        string groups = string.Join(", ", consumers.Select(c => $"{c.Group} ({string.Join("+", c.Topics)})"));
        LogPipeline(eventLog, options.Index.Provider, options.Warehouse.Provider, groups);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await _started.DisposeAsync().ConfigureAwait(false);
        if (_dimse is { IsListening: true } dimse)
        {
            health.Set("dimse", ServerHealth.Stopped);
            using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            drain.CancelAfter(TimeSpan.FromSeconds(options.Dimse.ShutdownTimeoutSeconds));
            // StopAsync closes the listening socket before it first yields: once this line is logged, nobody new gets in.
            var stopping = dimse.StopAsync(drain.Token);
            int active = dimse.ActiveAssociations;
            LogStopping(active, options.Dimse.ShutdownTimeoutSeconds);
            await stopping.ConfigureAwait(false);
            if (drain.IsCancellationRequested && active > 0) LogAborted();
            await dimse.DisposeAsync().ConfigureAwait(false);
        }
        if (_consumers is { } consumers)
        {
            await consumers.StopAsync(cancellationToken).ConfigureAwait(false);
            LogConsumersStopped(consumers.Consumers.Count);
        }
        _lock?.WithdrawServer();
        health.Set("eventLog", ServerHealth.Stopped);
        LogStopped(clock.Elapsed.TotalMilliseconds);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Yingyun serving from {DataDirectory} (ready in {Milliseconds:F0} ms)")]
    private partial void LogServing(string dataDirectory, double milliseconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "DIMSE: AE {AeTitle} on {Address}:{Port}, up to {MaximumAssociations} associations; C-ECHO, C-STORE (ingest), C-FIND/C-MOVE/C-GET (index), Storage Commitment")]
    private partial void LogDimse(string aeTitle, string address, int port, int maximumAssociations);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "HTTP: {Address} is open without authentication (loopback only): /healthz, /metrics, /api/stats, /api/tenants, /api/nodes, /api/admin/replay")]
    private partial void LogHttp(string address);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "tenant {Tenant}: {AeTitles} from {Addresses}, re-sends: {ResendPolicy}")]
    private partial void LogTenant(string tenant, string aeTitles, string addresses, string resendPolicy);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "event log: {EventLog}; index: {Index}; warehouse: {Warehouse}; consumers: {Consumers}")]
    private partial void LogPipeline(string eventLog, string index, string warehouse, string consumers);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "ingest recovery: {Finished} interrupted receipt(s) finished, {Removed} incomplete one(s) removed (never acknowledged)")]
    private partial void LogRecovered(int finished, int removed);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "stopping: no new associations; waiting for {Active} in progress (at most {Seconds} s)")]
    private partial void LogStopping(int active, int seconds);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "associations still in progress after the shutdown timeout were aborted (their unacknowledged instances are not stored)")]
    private partial void LogAborted();

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "{Count} consumer(s) stopped after committing their last batch")]
    private partial void LogConsumersStopped(int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Yingyun stopped in {Milliseconds:F0} ms; the stores and the event log close now")]
    private partial void LogStopped(double milliseconds);
}
