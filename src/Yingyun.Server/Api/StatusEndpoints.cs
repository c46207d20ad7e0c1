using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Warehouse;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Api;

/// <summary><c>/healthz</c>, <c>/api/stats</c> and <c>POST /api/admin/replay</c>.</summary>
internal static class StatusEndpoints
{
    /// <summary>Current instances, series and studies per tenant, as the warehouse has them once its consumer caught up
    /// (dicom_image_meta: one row per current instance version; the index store has no counting call).</summary>
    private static async Task<object> ArchiveCountsAsync(IWarehouse warehouse, CancellationToken ct)
    {
        var rows = await warehouse.QueryAsync(
            $"SELECT tenant_id, count(*) AS instances, count(DISTINCT series_uid) AS series, count(DISTINCT study_uid) AS studies " +
            $"FROM {WarehouseTables.DicomImageMeta} GROUP BY tenant_id ORDER BY tenant_id", ct);
        var tenants = rows.Select(r => new
        {
            tenant = (string?)r["tenant_id"],
            instances = Convert.ToInt64(r["instances"], CultureInfo.InvariantCulture),
            series = Convert.ToInt64(r["series"], CultureInfo.InvariantCulture),
            studies = Convert.ToInt64(r["studies"], CultureInfo.InvariantCulture),
        }).ToList();
        return new
        {
            source = WarehouseTables.DicomImageMeta,
            instances = tenants.Sum(t => t.instances),
            series = tenants.Sum(t => t.series),
            studies = tenants.Sum(t => t.studies),
            tenants,
        };
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        // 200 when every part is up, 503 otherwise; the body says which part is in which state either way.
        app.MapGet("/healthz", (ServerHealth health, ConsumerSupervisor consumers) =>
        {
            var components = health.Components;
            var consumerStates = consumers.States;
            bool up = components.Values.All(c => c.Status == ServerHealth.Up)
                && consumerStates.Values.All(c => c.Status is ServerHealth.Up or "paused");
            var body = new Dictionary<string, object>
            {
                ["status"] = up ? ServerHealth.Up : ServerHealth.Down,
                ["components"] = components,
                ["consumers"] = consumerStates,
            };
            return Results.Json(body, ApiJson.Options, statusCode: up ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).WithTags("status");

        app.MapGet("/api/stats", async (ConsumerSupervisor consumers, IEventLog log, IWarehouse warehouse, DimseListener dimse, CancellationToken ct) =>
        {
            var groups = await consumers.GetLagAsync(ct);
            var consumerStates = consumers.States;
            var body = new Dictionary<string, object?>
            {
                ["consumers"] = groups.Select(g => new
                {
                    group = g.Consumer.Group,
                    topics = g.Consumer.Topics,
                    state = consumerStates.GetValueOrDefault(g.Consumer.Group)?.Status,
                    processedRecords = g.Consumer.ProcessedRecords,
                    failedBatches = g.Consumer.FailedBatches,
                    lag = g.Partitions.Sum(p => p.Lag),
                    partitions = g.Partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).Select(p => new
                    {
                        topic = p.Topic,
                        partition = p.Partition,
                        committedOffset = p.CommittedOffset,
                        logStartOffset = p.LogStartOffset,
                        endOffset = p.EndOffset,
                        lag = p.Lag,
                    }),
                }).ToList(),
                ["totals"] = new
                {
                    lag = groups.Sum(g => g.Partitions.Sum(p => p.Lag)),
                    processedRecords = groups.Sum(g => g.Consumer.ProcessedRecords),
                    failedBatches = groups.Sum(g => g.Consumer.FailedBatches),
                },
                ["dimse"] = new { activeAssociations = dimse.ActiveAssociations },
            };
            if (log is EmbeddedEventLog embedded)
            {
                var statistics = embedded.Statistics;
                body["eventLog"] = new
                {
                    provider = "Embedded",
                    recordsAppended = statistics.RecordsAppended,
                    flushRounds = statistics.FlushRounds,
                    fsyncs = statistics.Fsyncs,
                };
            }
            body["archive"] = await ArchiveCountsAsync(warehouse, ct);
            return Results.Json(body, ApiJson.Options);
        }).WithTags("status");

        // Re-delivery to a consumer group (the server side of `yingyun replay` while the server owns the data directory).
        app.MapPost("/api/admin/replay", async (HttpContext context, ConsumerSupervisor consumers, CancellationToken ct) =>
        {
            if (context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
                return Results.Problem(detail: "admin calls are accepted from this machine only", statusCode: StatusCodes.Status403Forbidden);
            var (request, problem) = await ApiJson.ReadAsync<ReplayRequest>(context.Request, ct);
            if (problem is not null) return problem;
            try
            {
                return Results.Json(await consumers.ReplayAsync(request!, ct), ApiJson.Options);
            }
            catch (ReplayException ex)
            {
                return ex.Field is { } field
                    ? ApiJson.BadRequest(field, ex.Message)
                    : Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Replay refused");
            }
        }).WithTags("admin").Accepts<ReplayRequest>("application/json").Produces<ReplayResult>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status403Forbidden);
    }
}
