using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Warehouse;

namespace Yingyun.Archive.Consumers;

/// <summary>
/// The warehouse consumer group (ARCHITECTURE.md §1): <c>log_queue</c> → <c>dicom_object_meta</c>,
/// <c>dicom_image_queue</c> → <c>dicom_image_meta</c> (and the series rows it implies), <c>dicom_state_queue</c> →
/// <c>dicom_state_meta</c>. A batch is split by topic and its three tables written in one transaction; the writes are idempotent, so
/// a batch delivered again after a crash, or a replay, converges to the same tables.
/// </summary>
/// <remarks>A record that is not valid JSON for its topic can never succeed: it is logged with its position (and its
/// trace id when one can be found) and skipped, so it cannot hold the group back (the base class retries a failing
/// batch forever, which is right for a warehouse that is down and wrong for a record that is broken).</remarks>
public sealed class WarehouseConsumer : ArchiveConsumer
{
    public const string GroupName = "warehouse";

    public static IReadOnlyList<string> TopicsRead { get; } = [EventLog.Topics.LogQueue, EventLog.Topics.DicomStateQueue, EventLog.Topics.DicomImageQueue];

    private readonly IWarehouse _warehouse;
    private readonly ILogger _logger;
    private long _skipped;

    public WarehouseConsumer(IWarehouse warehouse, ILogger? logger = null)
        : base(GroupName, TopicsRead)
    {
        _warehouse = warehouse;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Records skipped because they could not be read (each one logged).</summary>
    public long SkippedRecords => Interlocked.Read(ref _skipped);

    protected override async Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken)
    {
        var objects = new List<ObjectMetaEvent>();
        var states = new List<SeriesStateEvent>();
        var images = new List<InstanceEvent>();
        foreach (var record in batch)
        {
            switch (record.Topic)
            {
                case EventLog.Topics.LogQueue:
                    Read(record, objects);
                    break;
                case EventLog.Topics.DicomStateQueue:
                    Read(record, states);
                    break;
                case EventLog.Topics.DicomImageQueue:
                    Read(record, images);
                    break;
                default:
                    Interlocked.Increment(ref _skipped);
                    _logger.UnexpectedTopic(Group, record.Position.ToString(), record.Topic);
                    break;
            }
        }

        // One transaction for the batch's three tables.
        await _warehouse.WriteAsync(objects, states, images, cancellationToken).ConfigureAwait(false);
    }

    private void Read<T>(EventRecord record, List<T> into) where T : class
    {
        try
        {
            into.Add(ArchiveEventJson.Deserialize<T>(record.Value.Span));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            Interlocked.Increment(ref _skipped);
            _logger.RecordUnreadable(Group, record.Position.ToString(), FindTraceId(record.Value.Span), typeof(T).Name, ex.Message);
        }
    }

    /// <summary>The top-level <c>trace_id</c> string of a broken message, if the JSON gets that far.</summary>
    private static string? FindTraceId(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("trace_id"u8)
                    && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    return reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Broken before a trace id appeared.
        }

        return null;
    }
}
