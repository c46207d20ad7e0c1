using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Yingyun.Archive.EventLog;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Api;

/// <summary><c>/healthz</c>, <c>/api/stats</c> and <c>POST /api/admin/replay</c>.</summary>
internal static class StatusEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        // 200 when every part is up, 503 otherwise; the body says which part is in which state either way.
        app.MapGet("/healthz", (ServerHealth health, ConsumerSupervisor consumers) =>
        {
            var components = health.Components;
            var consumerStates = consumers.States;
            bool up = components.Values.All(c => c.Status is ServerHealth.Up or ServerHealth.NotConfigured)
                && consumerStates.Values.All(c => c.Status is ServerHealth.Up or "paused");
            var body = new Dictionary<string, object>
            {
                ["status"] = up ? ServerHealth.Up : ServerHealth.Down,
                ["components"] = components,
                ["consumers"] = consumerStates,
            };
            return Results.Json(body, ApiJson.Options, statusCode: up ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).WithTags("status");

        app.MapGet("/api/stats", async (ConsumerSupervisor consumers, IEventLog log, DimseListener dimse, CancellationToken ct) =>
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
        }).WithTags("admin");
    }
}
