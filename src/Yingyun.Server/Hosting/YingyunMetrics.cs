using System.Diagnostics;
using System.Diagnostics.Metrics;
using Yingyun.Archive.Ingest;
using Yingyun.Dimse;

namespace Yingyun.Server.Hosting;

/// <summary>The <c>Yingyun</c> meter (OpenTelemetry, scraped at <c>/metrics</c> in Prometheus format). Instruments,
/// with the Prometheus names the exporter gives them:
/// <list type="table">
/// <item><c>yingyun.dimse.instances.received</c> (counter, tag <c>outcome</c> = success | warning | failure, the class of
///   the C-STORE status, PS3.4 §B.2.3) → <c>yingyun_dimse_instances_received_total</c></item>
/// <item><c>yingyun.dimse.received.bytes</c> (counter, bytes of data sets read by ingest) → <c>yingyun_dimse_received_bytes_total</c></item>
/// <item><c>yingyun.dimse.store.duration</c> (histogram, seconds from the first data set byte to the status, tag
///   <c>outcome</c>) → <c>yingyun_dimse_store_duration_seconds</c></item>
/// <item><c>yingyun.ingest.receipts</c> (counter, tag <c>outcome</c> = stored | replaced | duplicate | conflict | rejected |
///   refused, ARCHITECTURE.md §5) → <c>yingyun_ingest_receipts_total</c></item>
/// <item><c>yingyun.dimse.associations.active</c> (gauge) → <c>yingyun_dimse_associations_active</c></item>
/// <item><c>yingyun.consumer.records.processed</c> (counter, tag <c>group</c>) → <c>yingyun_consumer_records_processed_total</c></item>
/// <item><c>yingyun.consumer.batches.failed</c> (counter, tag <c>group</c>) → <c>yingyun_consumer_batches_failed_total</c></item>
/// <item><c>yingyun.consumer.lag</c> (gauge, records not yet committed, tags <c>group</c>, <c>topic</c>) → <c>yingyun_consumer_lag</c></item>
/// <item><c>yingyun.index.lag</c> (histogram, seconds from the start of an instance's receipt until the index
///   consumer's batch holding it is committed: "acknowledged and indexed") → <c>yingyun_index_lag_seconds</c></item>
/// <item><c>yingyun.eventlog.records.appended</c>, <c>yingyun.eventlog.fsyncs</c> (counters, embedded log) →
///   <c>yingyun_eventlog_records_appended_total</c>, <c>yingyun_eventlog_fsyncs_total</c></item>
/// </list></summary>
public sealed class YingyunMetrics : IDisposable
{
    public const string MeterName = "Yingyun";

    private readonly Meter _meter;
    private readonly Counter<long> _instances;
    private readonly Counter<long> _bytes;
    private readonly Histogram<double> _storeDuration;
    private readonly Histogram<double> _indexLag;

    public YingyunMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _instances = _meter.CreateCounter<long>("yingyun.dimse.instances.received", "{instance}", "Instances received by C-STORE, by outcome (success, warning, failure)");
        _bytes = _meter.CreateCounter<long>("yingyun.dimse.received.bytes", "By", "Data set bytes received by C-STORE and read by ingest");
        _storeDuration = _meter.CreateHistogram<double>("yingyun.dimse.store.duration", "s", "C-STORE duration: first data set byte to status (durable when success)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        // Fine below 1 s, where the target for p50 and p99 lies (issue 4); quantiles are read from these buckets.
        _indexLag = _meter.CreateHistogram<double>("yingyun.index.lag", "s", "Index lag: start of the receipt to the index consumer's commit of the batch holding the instance",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.5, 2, 3, 5, 10],
            });
    }

    public Meter Meter => _meter;

    public void InstanceReceived(DimseStatus status, long bytes, TimeSpan duration)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", OutcomeOf(status));
        _instances.Add(1, outcome);
        if (bytes > 0) _bytes.Add(bytes);
        _storeDuration.Record(duration.TotalSeconds, outcome);
    }

    /// <summary>One instance event applied and committed by the index consumer, <paramref name="lag"/> after its receipt began.</summary>
    public void InstanceIndexed(TimeSpan lag) => _indexLag.Record(lag.TotalSeconds);

    /// <summary>Receipts by what ingest did with them (its own counters, read at each scrape).</summary>
    public void ObserveIngest(IngestCounters counters) =>
        _meter.CreateObservableCounter("yingyun.ingest.receipts",
            () => counters.Snapshot().Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("outcome", kv.Key))),
            "{receipt}", "Receipts by ingest outcome: stored, replaced, duplicate, conflict, rejected, refused");

    /// <summary>PS3.7 Annex C: 0000 success, Bxxx (and 0001) warning, everything else failure.</summary>
    public static string OutcomeOf(DimseStatus status) =>
        status.IsSuccess ? "success" : status.IsSuccessOrWarning ? "warning" : "failure";

    public void Dispose() => _meter.Dispose();
}

/// <summary>Wraps the ingest's C-STORE handler to count instances and bytes and time each store.</summary>
internal sealed class MeteredStoreHandler(IStoreHandler inner, YingyunMetrics metrics) : IStoreHandler
{
    public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        var counting = new CountingReadStream(dataSet);
        StoreResult result;
        try
        {
            result = await inner.StoreAsync(request, counting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // DimseServices answers 0110 "processing failure" for it.
            metrics.InstanceReceived(DimseStatus.ProcessingFailure, counting.BytesRead, Stopwatch.GetElapsedTime(start));
            throw;
        }
        metrics.InstanceReceived(result.Status, counting.BytesRead, Stopwatch.GetElapsedTime(start));
        return result;
    }

    private sealed class CountingReadStream(Stream inner) : Dicom.ForwardOnlyReadStream
    {
        public long BytesRead { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            BytesRead += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            BytesRead += n;
            return n;
        }
    }
}
